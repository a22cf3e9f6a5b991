/**
 * `openHomeStore` opens a home's DBs where Codex keeps them (`resolveSqliteHome`): config.toml's
 * `sqlite_home`, else `CODEX_SQLITE_HOME`, else the home. Real homes in temp dirs: the DBs, the
 * sidecar and a rename land in the resolved directory (created when missing), never in the home.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getThread, StateRuntime } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { turnItems } from '@skein/thread-store';
import { createThreadParams } from '@skein/thread-store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openHomeStore } from '../src/index.js';

const DB_FILES = /\.sqlite/;
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) removeTempDir(dir);
});

function tempDir(): string {
  const dir = makeTempDir('skein-stores-sqlite-home-');
  temps.push(dir);
  return dir;
}

/** Opens `home`, writes a named thread through the store, closes; answers where the DBs went. */
async function writeNamedThread(home: string, env: NodeJS.ProcessEnv): Promise<string> {
  const opened = await openHomeStore(home, {
    defaultModelProvider: 'test-provider',
    createSchema: '0.169.0',
    waitForIndex: true,
    env,
  });
  try {
    expect(opened.stateDb, 'the index opened').toBeDefined();
    const params = createThreadParams(home);
    await opened.store.createThread(params);
    await opened.store.appendItems({ threadId: params.threadId, items: turnItems('hi', 'hello') });
    await opened.store.persistThread(params.threadId);
    await opened.store.updateThreadMetadata({
      threadId: params.threadId,
      patch: { name: 'Named in the moved DB' },
    });
    await opened.store.shutdownThread(params.threadId);
    const runtime = await StateRuntime.open({ sqliteHome: opened.sqliteHome });
    try {
      // A legacy thread's name is its row's title (what Codex writes on a rename).
      expect((await getThread(runtime.ctx, params.threadId))?.title).toBe('Named in the moved DB');
    } finally {
      await runtime.close();
    }
    return opened.sqliteHome;
  } finally {
    await opened.close();
  }
}

function dbFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => DB_FILES.test(name));
}

describe('openHomeStore and sqlite_home', () => {
  it('opens the DBs in the home by default', async () => {
    const home = tempDir();
    expect(await writeNamedThread(home, { HOME: tempDir() })).toBe(home);
    expect(dbFilesIn(home)).toEqual(expect.arrayContaining(['state_5.sqlite', 'skein_1.sqlite']));
  });

  it('follows CODEX_SQLITE_HOME, creating the directory', async () => {
    const home = tempDir();
    const dbDir = join(tempDir(), 'not', 'yet');
    expect(await writeNamedThread(home, { HOME: tempDir(), CODEX_SQLITE_HOME: dbDir })).toBe(dbDir);
    expect(dbFilesIn(dbDir)).toEqual(expect.arrayContaining(['state_5.sqlite', 'skein_1.sqlite']));
    expect(dbFilesIn(home)).toEqual([]);
    // The rollouts stay in the home.
    expect(existsSync(join(home, 'sessions'))).toBe(true);
  });

  it("lets config.toml's sqlite_home (relative to the home) win over the variable", async () => {
    const home = tempDir();
    const envDir = join(tempDir(), 'from-env');
    writeFileSync(join(home, 'config.toml'), 'sqlite_home = "dbrel"\n');
    const used = await writeNamedThread(home, { HOME: tempDir(), CODEX_SQLITE_HOME: envDir });
    expect(used).toBe(join(home, 'dbrel'));
    expect(dbFilesIn(join(home, 'dbrel'))).toContain('state_5.sqlite');
    expect(dbFilesIn(home)).toEqual([]);
    expect(existsSync(envDir)).toBe(false);
  });

  it('takes an explicit sqliteHome over both', async () => {
    const home = tempDir();
    const given = tempDir();
    writeFileSync(join(home, 'config.toml'), 'sqlite_home = "dbrel"\n');
    const opened = await openHomeStore(home, {
      defaultModelProvider: 'test-provider',
      sqliteHome: given,
      waitForIndex: true,
    });
    await opened.close();
    expect(opened.sqliteHome).toBe(given);
    expect(dbFilesIn(given)).toContain('state_5.sqlite');
    expect(existsSync(join(home, 'dbrel'))).toBe(false);
  });
});
