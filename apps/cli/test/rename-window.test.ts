/**
 * A rename cut short by SIGKILL, on copies of real Codex homes (0.169: the sidecar on its own
 * connection; 0.131: attached to Codex's): in the window after the name index write and before
 * the DB commit (a child taking the store's rename steps, stopped there), and before the index
 * write (the real `skein rename`, held at Codex's session-index lock). A fresh `skein show`
 * must then see one name in the DB and the index: the new one when the index got it, the old
 * one when it did not, and a name Codex set after the crash must stay. A store open across the
 * crash settles it at its next read of the thread.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseThreadId } from '@skein/protocol';
import { withSessionIndexLock } from '@skein/rollout';
import { FIXTURE_NAMES, indexedNameOnDisk, LineChild, removeTempDir } from '@skein/test-support';
import { openHomeStore } from '@skein/thread-stores';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cliProcess, fixture, thread } from './helpers.js';

const RENAME_STEPS = fileURLToPath(new URL('./reliability/rename-steps.mjs', import.meta.url));

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

async function shownName(home: string, id: string): Promise<string | null> {
  const show = cliProcess(home, ['show', id, '--json', '--metadata-only']);
  const exit = await show.exited;
  if (exit.code !== 0) throw new Error(`show ${id} exited ${exit.code}: ${show.stderr}`);
  return (JSON.parse(show.lines.join('\n')) as { thread: { name: string | null } }).thread.name;
}

/** The column Codex keeps this thread's name in (spec codex-db-effects §2.2). */
function nameColumn(db: BetterSqlite3.Database, id: string): 'name' | 'title' {
  const columns = new Set(
    (db.prepare('select name from pragma_table_info(?)').all('threads') as { name: string }[]).map(
      (c) => c.name,
    ),
  );
  if (!columns.has('name') || !columns.has('history_mode')) return 'title';
  const row = db.prepare('select history_mode from threads where id = ?').get(id) as {
    history_mode: string;
  };
  return row.history_mode === 'paginated' ? 'name' : 'title';
}

/** The name stored in Codex's DB for the thread, read from the file. */
function dbName(home: string, id: string): string | null {
  const db = new BetterSqlite3(join(home, 'state_5.sqlite'), { readonly: true });
  try {
    const column = nameColumn(db, id);
    const row = db.prepare(`select ${column} as value from threads where id = ?`).get(id) as {
      value: string | null;
    };
    return row.value === null || row.value.trim() === '' ? null : row.value;
  } finally {
    db.close();
  }
}

/** A rename as Codex writes it, straight into its DB (and, unless `dbOnly`, the index). */
function codexRename(home: string, id: string, name: string, dbOnly = false): void {
  const db = new BetterSqlite3(join(home, 'state_5.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(`update threads set ${nameColumn(db, id)} = ? where id = ?`).run(name, id);
  } finally {
    db.close();
  }
  if (dbOnly) return;
  const line = JSON.stringify({ id, thread_name: name, updated_at: new Date().toISOString() });
  appendFileSync(join(home, 'session_index.jsonl'), `${line}\n`);
}

/** Rename intents left in Skein's sidecar. */
function pendingIntents(home: string): number {
  const db = new BetterSqlite3(join(home, 'skein_1.sqlite'), { readonly: true });
  try {
    return (db.prepare('select count(*) as n from rename_intents').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Whether another process holds the DB's write lock (a `begin immediate` that cannot wait). */
function dbWriteLocked(home: string): boolean {
  const db = new BetterSqlite3(join(home, 'state_5.sqlite'));
  try {
    db.pragma('busy_timeout = 0');
    db.exec('begin immediate');
    db.exec('rollback');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    db.close();
  }
}

/**
 * A copied home and one of its threads, named through `skein rename` (which also runs the
 * first open's DB check), so the DB and the index start with one name.
 */
async function preparedHome(name: (typeof FIXTURE_NAMES)[number]) {
  const { home, manifest } = fixture(name);
  homes.push(home);
  const id = thread(manifest, 'recent').id;
  const before = 'named before';
  const rename = cliProcess(home, ['rename', id, before]);
  expect((await rename.exited).code, rename.stderr).toBe(0);
  expect(await shownName(home, id)).toBe(before);
  expect(dbName(home, id)).toBe(before);
  expect(indexedNameOnDisk(home, id)).toBe(before);
  return { home, id, before };
}

/** Runs the rename steps up to the window after the index write, then SIGKILLs them. */
async function killAfterIndexWrite(home: string, id: string, name: string): Promise<void> {
  const child = new LineChild(process.execPath, [RENAME_STEPS, home, id, name]);
  try {
    await child.waitForLine((line) => line === 'indexed', 30_000);
  } finally {
    await child.kill();
  }
  expect((await child.exited).signal).toBe('SIGKILL');
}

describe.each(FIXTURE_NAMES)('a rename killed mid-way (%s home)', (fixtureName) => {
  it('after the index write: the next open gives the DB the index name', async () => {
    const { home, id, before } = await preparedHome(fixtureName);
    await killAfterIndexWrite(home, id, 'renamed, then killed');
    // The window itself: the index has the new name, the DB still the old one.
    expect(indexedNameOnDisk(home, id)).toBe('renamed, then killed');
    expect(dbName(home, id)).toBe(before);
    expect(pendingIntents(home)).toBe(1);

    expect(await shownName(home, id)).toBe('renamed, then killed');
    expect(dbName(home, id)).toBe('renamed, then killed');
    expect(pendingIntents(home)).toBe(0);
  });

  it('a store opened before the crash sees the index name on its next read', async () => {
    const { home, id, before } = await preparedHome(fixtureName);
    const opened = await openHomeStore(home, {
      defaultModelProvider: 'openai',
      waitForIndex: true,
    });
    try {
      const threadId = parseThreadId(id);
      expect((await opened.store.readThread({ threadId })).name).toBe(before);
      await killAfterIndexWrite(home, id, 'renamed while open');
      expect(dbName(home, id)).toBe(before);
      expect((await opened.store.readThread({ threadId })).name).toBe('renamed while open');
      expect(dbName(home, id)).toBe('renamed while open');
      expect(pendingIntents(home)).toBe(0);
    } finally {
      await opened.close();
    }
  });

  it('a clear after the index rewrite: the next open clears the DB name too', async () => {
    const { home, id, before } = await preparedHome(fixtureName);
    await killAfterIndexWrite(home, id, '');
    expect(indexedNameOnDisk(home, id)).toBeNull();
    expect(dbName(home, id)).toBe(before);

    expect(await shownName(home, id)).toBeNull();
    expect(dbName(home, id)).toBeNull();
    expect(pendingIntents(home)).toBe(0);
  });

  it('before the index write (skein rename held at the index lock): both keep the old name', async () => {
    const { home, id, before } = await preparedHome(fixtureName);
    await withSessionIndexLock(home, async () => {
      const rename = cliProcess(home, ['rename', id, 'never indexed']);
      try {
        // The intent is recorded and the DB transaction open: the rename waits for the lock.
        const deadline = Date.now() + 8_000;
        while (!(pendingIntents(home) === 1 && dbWriteLocked(home))) {
          if (!rename.running) throw new Error(`rename exited: ${rename.stderr}`);
          if (Date.now() > deadline) throw new Error('rename never reached the index lock');
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await rename.kill();
      }
      expect((await rename.exited).signal).toBe('SIGKILL');
    });
    expect(indexedNameOnDisk(home, id)).toBe(before);
    expect(dbName(home, id)).toBe(before);
    expect(pendingIntents(home)).toBe(1);

    expect(await shownName(home, id)).toBe(before);
    expect(dbName(home, id)).toBe(before);
    expect(indexedNameOnDisk(home, id)).toBe(before);
    expect(pendingIntents(home)).toBe(0);
  });

  it('a name Codex set after the crash is kept', async () => {
    const { home, id } = await preparedHome(fixtureName);
    await killAfterIndexWrite(home, id, 'skein name');
    codexRename(home, id, 'codex name');

    expect(await shownName(home, id)).toBe('codex name');
    expect(dbName(home, id)).toBe('codex name');
    expect(indexedNameOnDisk(home, id)).toBe('codex name');
    expect(pendingIntents(home)).toBe(0);
  });

  it('a Codex rename that has written only its DB half is not overridden', async () => {
    const { home, id } = await preparedHome(fixtureName);
    await killAfterIndexWrite(home, id, 'skein name');
    codexRename(home, id, 'codex name', true);

    expect(await shownName(home, id)).toBe('codex name');
    expect(dbName(home, id)).toBe('codex name');
    expect(pendingIntents(home)).toBe(0);
  });
});
