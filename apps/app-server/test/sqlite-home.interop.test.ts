/**
 * Skein and the real codex-cli 0.169.0 share one index when config.toml moves `sqlite_home`.
 * The recorded 0.169.0 home has its DBs moved where config.toml points; the two servers then
 * take turns on it (never at once): what one writes to the DB — a rename, a read receipt — the
 * other answers, and neither creates a DB in CODEX_HOME. Names also go to session_index.jsonl
 * (shared by both anyway), so the DB rows are checked directly as well, and a read receipt,
 * which lives only in the DB, is exchanged both ways.
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureCodexCli,
  installFixtureHome,
  makeTempDir,
  removeTempDir,
} from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN, skeinBuilt } from './support/differential.js';
import { RpcProcess } from './support/rpc-process.js';

/** Threads of the 0.169.0 fixture session_index.jsonl does not name (all paginated). */
const KIWI = '01a20154-1dfc-75d2-8b53-26d7ad3a28f7';
const GAMMA_BUILD = '01a20154-2be6-7d71-8034-8f13b6cf8901';
const GAMMA_DOCS = '01a20154-30c0-7d63-b495-655da3e5d7a1';
const ALPHA_STEP = '01a20154-3561-7eb1-8251-2558715ffcc4';

let home = '';
let dbParent = '';
let dbDir = '';
const seen: Record<string, unknown> = {};

async function session<T>(
  side: 'codex' | 'skein',
  run: (proc: RpcProcess) => Promise<T>,
): Promise<T> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CODEX_HOME: home,
    RUST_LOG: 'error',
    NO_COLOR: '1',
  };
  delete env.CODEX_SQLITE_HOME;
  const proc =
    side === 'codex'
      ? RpcProcess.spawn(ensureCodexCli('0.169.0').binary, ['app-server'], { env, cwd: home })
      : RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: home });
  try {
    await proc.initialize({ experimentalApi: true }, 'skein_sqlite_home');
    return await run(proc);
  } finally {
    await proc.close();
  }
}

async function nameOf(proc: RpcProcess, threadId: string): Promise<unknown> {
  const answer = await proc.request('thread/read', { threadId });
  if ('error' in answer) return answer.error;
  return (answer.result as { thread: { name?: unknown } }).thread.name;
}

async function readStateOf(proc: RpcProcess, threadId: string): Promise<unknown> {
  const answer = await proc.request('thread/read', { threadId });
  if ('error' in answer) return answer.error;
  return (answer.result as { readState?: unknown }).readState;
}

async function rename(proc: RpcProcess, threadId: string, name: string): Promise<unknown> {
  const answer = await proc.request('thread/name/set', { threadId, name });
  return 'error' in answer ? answer.error : 'ok';
}

/** Marks the thread unread from its start, at the revision it has now (the fixture's receipt). */
async function markUnread(proc: RpcProcess, threadId: string): Promise<unknown> {
  const current = (await readStateOf(proc, threadId)) as { revision?: unknown } | null;
  const answer = await proc.request('thread/readState/update', {
    threadId,
    operation: { type: 'unread' },
    expectedRevision: current?.revision ?? `initial:${threadId}`,
  });
  return 'error' in answer ? answer.error : (answer.result as { readState: unknown }).readState;
}

function dbNames(): Record<string, string | null> {
  const db = new Database(join(dbDir, 'state_5.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare('select id, name from threads where id in (?, ?, ?)')
      .all(KIWI, ALPHA_STEP, GAMMA_DOCS) as { id: string; name: string | null }[];
    return Object.fromEntries(rows.map((row) => [row.id, row.name]));
  } finally {
    db.close();
  }
}

const sqliteFilesIn = (dir: string) => readdirSync(dir).filter((name) => name.includes('.sqlite'));

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  home = installFixtureHome('codex-0.169').home;
  dbParent = makeTempDir('skein-sqlite-home-interop-');
  dbDir = join(dbParent, 'db');
  mkdirSync(dbDir);
  const moved = sqliteFilesIn(home);
  expect(moved).toContain('state_5.sqlite');
  for (const name of moved) renameSync(join(home, name), join(dbDir, name));
  writeFileSync(join(home, 'config.toml'), `sqlite_home = ${JSON.stringify(dbDir)}\n`);
  // A name only the moved DB has: whoever reads it reads that DB.
  const db = new Database(join(dbDir, 'state_5.sqlite'));
  db.prepare('update threads set name = ? where id = ?').run('Kiwi, named in the DB', KIWI);
  db.close();

  seen.codexSeeded = await session('codex', (proc) => nameOf(proc, KIWI));
  await session('skein', async (proc) => {
    seen.skeinSeeded = await nameOf(proc, KIWI);
    seen.skeinRename = await rename(proc, ALPHA_STEP, 'Named by Skein');
    seen.skeinMarked = await markUnread(proc, GAMMA_BUILD);
  });
  seen.namesAfterSkein = dbNames();
  await session('codex', async (proc) => {
    seen.codexReadsSkeinName = await nameOf(proc, ALPHA_STEP);
    seen.codexReadsSkeinMark = await readStateOf(proc, GAMMA_BUILD);
    seen.codexRename = await rename(proc, GAMMA_DOCS, 'Named by Codex');
    seen.codexMarked = await markUnread(proc, KIWI);
  });
  seen.namesAfterCodex = dbNames();
  await session('skein', async (proc) => {
    seen.skeinReadsCodexName = await nameOf(proc, GAMMA_DOCS);
    seen.skeinReadsCodexMark = await readStateOf(proc, KIWI);
  });
}, 180_000);

afterAll(() => {
  if (home !== '') removeTempDir(home);
  if (dbParent !== '') removeTempDir(dbParent);
});

describe('sqlite_home in config.toml, Skein beside the real 0.169.0', () => {
  it('both read the name only the moved DB holds', () => {
    expect(seen.codexSeeded).toBe('Kiwi, named in the DB');
    expect(seen.skeinSeeded).toBe('Kiwi, named in the DB');
  });

  it("0.169.0 answers Skein's rename and read receipt, written to the moved DB", () => {
    expect(seen.skeinRename).toBe('ok');
    expect(seen.namesAfterSkein).toMatchObject({ [ALPHA_STEP]: 'Named by Skein' });
    expect(seen.codexReadsSkeinName).toBe('Named by Skein');
    expect(seen.skeinMarked).toMatchObject({ firstUnread: { type: 'threadStart' } });
    expect(seen.codexReadsSkeinMark).toEqual(seen.skeinMarked);
  });

  it("Skein answers 0.169.0's rename and read receipt", () => {
    expect(seen.codexRename).toBe('ok');
    expect(seen.namesAfterCodex).toMatchObject({ [GAMMA_DOCS]: 'Named by Codex' });
    expect(seen.skeinReadsCodexName).toBe('Named by Codex');
    expect(seen.codexMarked).toMatchObject({ firstUnread: { type: 'threadStart' } });
    expect(seen.skeinReadsCodexMark).toEqual(seen.codexMarked);
  });

  it('leaves CODEX_HOME without a DB; Skein keeps its sidecar beside Codex', () => {
    expect(sqliteFilesIn(home)).toEqual([]);
    expect(sqliteFilesIn(dbDir)).toEqual(
      expect.arrayContaining(['state_5.sqlite', 'thread_history_1.sqlite', 'skein_1.sqlite']),
    );
  });
});
