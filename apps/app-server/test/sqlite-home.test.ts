/**
 * A home whose config.toml moves `sqlite_home`: the built server opens Codex's DBs there, reads
 * what only that DB holds, writes its renames there, and makes no second index in CODEX_HOME.
 * The home is the recorded 0.169.0 fixture with its DB files moved where config.toml points.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, makeTempDir, removeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SKEIN_MAIN, skeinBuilt } from './support/differential.js';
import { RpcProcess } from './support/rpc-process.js';

/** Codex's DBs and Skein's sidecar (with their -wal / -shm files). */
const DB_FILES = /^(state_5|thread_history_1|skein_1)\.sqlite/;
/** A thread of the fixture that session_index.jsonl names not: its name can only come from a DB. */
const KIWI = '01a20154-1dfc-75d2-8b53-26d7ad3a28f7';
/** A thread the test renames. */
const ALPHA_STEP = '01a20154-3561-7eb1-8251-2558715ffcc4';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) removeTempDir(dir);
});

/** The fixture home with its DBs moved to a directory outside it, and config.toml saying so. */
function homeWithMovedDbs(): { home: string; dbDir: string } {
  const { home } = installFixtureHome('codex-0.169');
  const dbParent = makeTempDir('skein-sqlite-home-');
  temps.push(home, dbParent);
  const dbDir = join(dbParent, 'db');
  mkdirSync(dbDir);
  const moved = readdirSync(home).filter((name) => DB_FILES.test(name));
  expect(moved).toEqual(expect.arrayContaining(['state_5.sqlite', 'thread_history_1.sqlite']));
  for (const name of moved) renameSync(join(home, name), join(dbDir, name));
  writeFileSync(join(home, 'config.toml'), `sqlite_home = ${JSON.stringify(dbDir)}\n`);
  return { home, dbDir };
}

function nameInDb(dbDir: string, threadId: string): string | null {
  const db = new Database(join(dbDir, 'state_5.sqlite'), { readonly: true });
  try {
    const row = db.prepare('SELECT name FROM threads WHERE id = ?').get(threadId) as
      | { name: string | null }
      | undefined;
    if (row === undefined) throw new Error(`no row for ${threadId}`);
    return row.name;
  } finally {
    db.close();
  }
}

describe('sqlite_home in config.toml', () => {
  it('is where the server reads and writes the index; CODEX_HOME gets no DB', async () => {
    expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
    const { home, dbDir } = homeWithMovedDbs();
    const db = new Database(join(dbDir, 'state_5.sqlite'));
    db.prepare('UPDATE threads SET name = ? WHERE id = ?').run('Kiwi logs, named in the DB', KIWI);
    db.close();

    const env: NodeJS.ProcessEnv = { ...process.env, CODEX_HOME: home };
    delete env.CODEX_SQLITE_HOME;
    const proc = RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: home });
    try {
      await proc.initialize();
      const read = await proc.request('thread/read', { threadId: KIWI });
      expect(read).toMatchObject({ result: { thread: { name: 'Kiwi logs, named in the DB' } } });
      const renamed = await proc.request('thread/name/set', {
        threadId: ALPHA_STEP,
        name: 'Renamed beside Codex',
      });
      expect(renamed).toHaveProperty('result');
    } finally {
      expect(await proc.close()).toBe(0);
    }

    expect(nameInDb(dbDir, ALPHA_STEP)).toBe('Renamed beside Codex');
    expect(readdirSync(home).filter((name) => DB_FILES.test(name))).toEqual([]);
    expect(existsSync(join(dbDir, 'skein_1.sqlite'))).toBe(true);
  }, 60_000);
});
