import { appendFileSync, mkdirSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { getThread, type StateDb } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb, listThreadsWithDb } from '../src/index.js';
import { type WrittenThread, writeLegacyHome, writeLegacyRollout } from './state-db-helpers.js';

/*
 * Listings walk the files first (as Codex 0.169 does), so what other processes wrote behind the
 * DB's back shows up in the next listing. These tests write rollouts after a first listing and
 * expect the next default listing to show them.
 */

const handles: StateDb[] = [];
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

/** Sets a directory's mtime a minute back, so its cached listing is trusted until it changes. */
function ageDirs(paths: readonly string[]) {
  const old = (Date.now() - 60_000) / 1000;
  for (const path of new Set(paths.map((p) => dirname(p)))) utimesSync(path, old, old);
}

async function setup(count: number) {
  const home = makeTempDir();
  const threads = writeLegacyHome(home, count);
  ageDirs(threads.map((t) => t.path));
  const db = await initStateDb({ codexHome: home });
  handles.push(db);
  // The first look fills the directory cache and the checked-file state.
  await listThreadsWithDb(home, { pageSize: 50, stateDb: db });
  await listThreadsWithDb(home, { pageSize: 50, stateDb: db, sortKey: 'updatedAt' });
  await listThreadsWithDb(home, { pageSize: 50, stateDb: db, archived: true });
  return { home, threads, db, active: threads.filter((t) => !t.archived) };
}

const ids = (page: { items: { id: string }[] }) => page.items.map((t) => t.id);

describe('scan-and-repair sees what other processes wrote', () => {
  it('a new rollout in an already listed directory', async () => {
    const { home, db, active } = await setup(6);
    const sibling = active[active.length - 1] as WrittenThread;
    // Same day directory as an existing thread: only that directory's mtime moves.
    const late = writeLegacyRollout(home, { index: 5, idMs: sibling.mtimeMs + 1_000 });
    expect(dirname(late.path)).toBe(dirname(sibling.path));
    const page = await listThreadsWithDb(home, { pageSize: 50, stateDb: db });
    expect(ids(page)[0]).toBe(late.id);
    expect(page.items[0]?.preview).toBe(late.preview);
    expect((await getThread(db.ctx, late.id))?.rolloutPath).toBe(late.path);
  });

  it('a rollout written to behind the DB keeps its row as its writer left it (a list writes nothing)', async () => {
    const { home, db, active } = await setup(6);
    const touched = active[0] as WrittenThread;
    appendFileSync(
      touched.path,
      `${JSON.stringify({
        timestamp: new Date().toISOString(),
        type: 'event_msg',
        payload: { type: 'agent_message', message: 'resumed elsewhere' },
      })}\n`,
    );
    const later = Math.floor(Date.now() / 1000) + 60;
    utimesSync(touched.path, later, later);
    const before = db.sqlite.prepare('select * from threads order by id').all();
    for (const sortKey of ['updatedAt', 'createdAt', 'recencyAt'] as const) {
      const page = await listThreadsWithDb(home, { pageSize: 50, stateDb: db, sortKey });
      expect(ids(page)).toContain(touched.id);
    }
    // Every writer keeps its rows in step; Codex's own list writes nothing (codex-db-effects §2.1).
    expect(db.sqlite.prepare('select * from threads order by id').all()).toEqual(before);
  });

  it('a rollout moved to archived_sessions: gone from the active list, archived with its new path', async () => {
    const { home, db, active } = await setup(6);
    const moved = active[1] as WrittenThread;
    const target = join(home, 'archived_sessions', basename(moved.path));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(moved.path, target);
    expect(ids(await listThreadsWithDb(home, { pageSize: 50, stateDb: db }))).not.toContain(
      moved.id,
    );
    const archived = await listThreadsWithDb(home, { pageSize: 50, stateDb: db, archived: true });
    expect(ids(archived)).toContain(moved.id);
    const row = await getThread(db.ctx, moved.id);
    expect(row?.rolloutPath).toBe(target);
    expect(row?.archived).toBe(true);
  });

  it('a rollout moved back out of the archive is active again', async () => {
    const { home, db, threads } = await setup(8);
    const archivedThread = threads.find((t) => t.archived) as WrittenThread;
    const back = join(home, 'sessions', '2025', '03', '01', basename(archivedThread.path));
    mkdirSync(dirname(back), { recursive: true });
    renameSync(archivedThread.path, back);
    expect(ids(await listThreadsWithDb(home, { pageSize: 50, stateDb: db }))).toContain(
      archivedThread.id,
    );
    const row = await getThread(db.ctx, archivedThread.id);
    expect(row?.archived).toBe(false);
    expect(row?.rolloutPath).toBe(back);
  });

  it('a deleted rollout is omitted from the next listing in every sort', async () => {
    const { home, db, active } = await setup(6);
    const victim = active[2] as WrittenThread;
    rmSync(victim.path);
    for (const sortKey of ['createdAt', 'updatedAt', 'recencyAt'] as const) {
      const page = await listThreadsWithDb(home, { pageSize: 50, stateDb: db, sortKey });
      expect(ids(page)).not.toContain(victim.id);
      expect(page.items).toHaveLength(active.length - 1);
    }
  });

  it('a name only in session_index.jsonl is found by the files, not by the DB alone', async () => {
    const { home, db, active } = await setup(4);
    const named = active[0] as WrittenThread;
    appendFileSync(
      join(home, 'session_index.jsonl'),
      `${JSON.stringify({ id: named.id, thread_name: 'zebra crossing', updated_at: new Date().toISOString() })}\n`,
    );
    // Codex 0.169 searches the files by their session-index names and, when its DB finds
    // nothing, answers with what the files found; the DB alone searches its own columns.
    const page = await listThreadsWithDb(home, { pageSize: 50, stateDb: db, searchTerm: 'zebra' });
    expect(ids(page)).toEqual([named.id]);
    expect(page.origin).toBe('filesystem');
    const dbOnly = await listThreadsWithDb(home, {
      pageSize: 50,
      stateDb: db,
      searchTerm: 'zebra',
      useStateDbOnly: true,
    });
    expect(ids(dbOnly)).toEqual([]);
  });
});

/*
 * A listing looks up only the rows of files an earlier listing did not find their rows pointing
 * at, while no row of the DB changed since (its change stamp). A row changed in between, by any
 * connection, must be looked up and repaired again.
 */
describe('scan-and-repair looks again at rows changed since the last listing', () => {
  it('a row another process pointed elsewhere and marked archived', async () => {
    const { home, db, active } = await setup(6);
    const bent = active[1] as WrittenThread;
    const other = new BetterSqlite3(db.path);
    try {
      other
        .prepare('update threads set rollout_path = ?, archived = 1 where id = ?')
        .run('/elsewhere/rollout.jsonl', bent.id);
    } finally {
      other.close();
    }
    expect(ids(await listThreadsWithDb(home, { pageSize: 50, stateDb: db }))).toContain(bent.id);
    const row = await getThread(db.ctx, bent.id);
    expect([row?.rolloutPath, row?.archived]).toEqual([bent.path, false]);
  });

  it("a row this process's own connection pointed elsewhere", async () => {
    const { home, db, active } = await setup(6);
    const bent = active[2] as WrittenThread;
    db.sqlite
      .prepare('update threads set rollout_path = ? where id = ?')
      .run(join(home, 'sessions', 'elsewhere.jsonl'), bent.id);
    await listThreadsWithDb(home, { pageSize: 50, stateDb: db, sortKey: 'updatedAt' });
    expect((await getThread(db.ctx, bent.id))?.rolloutPath).toBe(bent.path);
  });

  it('a rollout moved to another day folder while the DB stood still', async () => {
    const { home, db, active } = await setup(6);
    const moved = active[3] as WrittenThread;
    const target = join(home, 'sessions', '2025', '04', '02', basename(moved.path));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(moved.path, target);
    expect(ids(await listThreadsWithDb(home, { pageSize: 50, stateDb: db }))).toContain(moved.id);
    expect((await getThread(db.ctx, moved.id))?.rolloutPath).toBe(target);
  });
});
