import { mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getThread, patchThreadMetadata, type StateDb, setThreadArchived } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findThreadPathWithDb,
  initStateDb,
  listThreadsWithDb,
  readRepairRolloutPath,
  reconcileRolloutFile,
} from '../src/index.js';
import { writeLegacyHome, writeLegacyRollout } from './state-db-helpers.js';

const handles: StateDb[] = [];
async function setup(count: number) {
  const home = makeTempDir();
  const threads = writeLegacyHome(home, count);
  const db = await initStateDb({ codexHome: home });
  handles.push(db);
  return { home, threads, db };
}
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

describe('findThreadPathWithDb', () => {
  it('accepts the DB path whatever the file is called, once its session_meta names the thread', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[0]!;
    const odd = join(home, 'elsewhere', 'renamed-by-hand.jsonl');
    mkdirSync(join(home, 'elsewhere'));
    renameSync(t.path, odd);
    await setThreadArchived(db.ctx, t.id, { archived: false, rolloutPath: odd });
    expect(await findThreadPathWithDb(home, t.id, { stateDb: db })).toBe(odd);
    // Without the DB, the file-name search cannot know it.
    expect(await findThreadPathWithDb(home, t.id)).toBeNull();
  });

  it('a row pointing at another thread’s file falls back to the search and is repaired', async () => {
    const { home, threads, db } = await setup(3);
    const [a, b] = [threads[0]!, threads[1]!];
    await setThreadArchived(db.ctx, a.id, { archived: false, rolloutPath: b.path });
    expect(await findThreadPathWithDb(home, a.id, { stateDb: db })).toBe(a.path);
    expect((await getThread(db.ctx, a.id))?.rolloutPath).toBe(a.path);
  });

  it('a row pointing at a missing file falls back and is repaired; a missing row is rebuilt', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[1]!;
    await setThreadArchived(db.ctx, t.id, {
      archived: false,
      rolloutPath: join(home, 'sessions/gone.jsonl'),
    });
    expect(await findThreadPathWithDb(home, t.id, { stateDb: db })).toBe(t.path);
    expect((await getThread(db.ctx, t.id))?.rolloutPath).toBe(t.path);

    const late = writeLegacyRollout(home, { index: 99 });
    expect(await getThread(db.ctx, late.id)).toBeUndefined();
    expect(await findThreadPathWithDb(home, late.id, { stateDb: db })).toBe(late.path);
    expect((await getThread(db.ctx, late.id))?.preview).toBe(late.preview);
    expect(await findThreadPathWithDb(home, 'not-a-uuid', { stateDb: db })).toBeNull();
  });

  it('read-repair follows a move into archived_sessions/ without touching other columns', async () => {
    const { home, threads, db } = await setup(2);
    const t = threads[0]!;
    const before = (await getThread(db.ctx, t.id))!;
    const moved = join(home, 'archived_sessions', t.path.split('/').at(-1)!);
    mkdirSync(join(home, 'archived_sessions'), { recursive: true });
    renameSync(t.path, moved);
    expect(await readRepairRolloutPath(db, moved, { codexHome: home })).toBe('repaired');
    const after = (await getThread(db.ctx, t.id))!;
    expect([after.archived, after.rolloutPath, after.updatedAtMs]).toEqual([
      true,
      moved,
      before.updatedAtMs,
    ]);
    expect(await readRepairRolloutPath(db, moved, { codexHome: home })).toBe('unchanged');
  });

  it('reconcile keeps an explicit title and existing git', async () => {
    const { home, threads, db } = await setup(1);
    const t = threads[0]!;
    await patchThreadMetadata(db.ctx, t.id, { title: 'My explicit title', git: { sha: 'abc' } });
    const row = await reconcileRolloutFile(db, t.path, { codexHome: home });
    expect(row?.title).toBe('My explicit title');
    expect(row?.gitSha).toBe('abc');
    expect(row?.preview).toBe(t.preview);
  });
});

describe('listThreadsWithDb', () => {
  it('scan-and-repair indexes rollouts the DB has not seen; DB-only listing does not', async () => {
    const { home, db } = await setup(5);
    const late = writeLegacyRollout(home, { index: 500 }); // newest: on the first page
    const dbOnly = await listThreadsWithDb(home, {
      pageSize: 50,
      stateDb: db,
      useStateDbOnly: true,
    });
    expect(dbOnly.items.map((t) => t.id)).not.toContain(late.id);
    const repaired = await listThreadsWithDb(home, { pageSize: 50, stateDb: db });
    // A listing filtered by source (the default) answers from the files.
    expect(repaired.origin).toBe('filesystem');
    expect(repaired.items[0]?.id).toBe(late.id);
    expect((await getThread(db.ctx, late.id))?.preview).toBe(late.preview);
  });

  it('omits rows whose file is gone but keeps the row', async () => {
    const { home, threads, db } = await setup(4);
    const active = threads.filter((t) => !t.archived);
    const victim = active[0]!;
    rmSync(victim.path);
    const page = await listThreadsWithDb(home, { pageSize: 50, stateDb: db, useStateDbOnly: true });
    expect(page.items.map((t) => t.id).sort()).toEqual(
      active
        .slice(1)
        .map((t) => t.id)
        .sort(),
    );
    expect(await getThread(db.ctx, victim.id)).toBeDefined();
  });

  it('a DB-only page sees a rollout removed, or swapped for a link out of the home, after an earlier page', async () => {
    const { home, threads, db } = await setup(6);
    const active = threads.filter((t) => !t.archived);
    // Day folders old enough for their listings to be kept between pages (racy-stat margin).
    const OLD = 1_735_905_600;
    const folders = [...new Set(active.map((t) => dirname(t.path)))];
    for (const folder of folders) utimesSync(folder, OLD, OLD);
    await sleep(250);
    const ids = async () =>
      (await listThreadsWithDb(home, { pageSize: 50, stateDb: db, useStateDbOnly: true })).items
        .map((t) => t.id)
        .sort();
    expect(await ids()).toEqual(active.map((t) => t.id).sort());
    // Each change keeps the folder's mtime (put back); its ctime still moves.
    const [removed, linked] = active;
    rmSync(removed!.path);
    const outside = join(makeTempDir(), 'elsewhere.jsonl');
    writeFileSync(outside, '');
    rmSync(linked!.path);
    symlinkSync(outside, linked!.path);
    for (const folder of folders) utimesSync(folder, OLD, OLD);
    expect(await ids()).toEqual(
      active
        .slice(2)
        .map((t) => t.id)
        .sort(),
    );
  });

  it('pages through the DB with cursors, filters by cwd and searches name/title/preview', async () => {
    const { home, threads, db } = await setup(15);
    const active = threads.filter((t) => !t.archived);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i += 1) {
      const page = await listThreadsWithDb(home, {
        pageSize: 4,
        cursor,
        stateDb: db,
        useStateDbOnly: true,
      });
      seen.push(...page.items.map((t) => t.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.sort()).toEqual(active.map((t) => t.id).sort());
    const cwd = '/home/dev/projects/p1';
    const byCwd = await listThreadsWithDb(home, { pageSize: 50, cwdFilters: [cwd], stateDb: db });
    expect(byCwd.items.map((t) => t.id).sort()).toEqual(
      active
        .filter((t) => t.cwd === cwd)
        .map((t) => t.id)
        .sort(),
    );
    expect(
      (await listThreadsWithDb(home, { pageSize: 50, cwdFilters: [], stateDb: db })).items,
    ).toEqual([]);
    const search = await listThreadsWithDb(home, {
      pageSize: 50,
      searchTerm: 'thread 1',
      stateDb: db,
    });
    expect(search.items.map((t) => t.id).sort()).toEqual(
      active
        .filter((t) => t.preview.includes('thread 1'))
        .map((t) => t.id)
        .sort(),
    );
    const archived = await listThreadsWithDb(home, { pageSize: 50, archived: true, stateDb: db });
    expect(archived.items.map((t) => t.id).sort()).toEqual(
      threads
        .filter((t) => t.archived)
        .map((t) => t.id)
        .sort(),
    );
  });

  it('without a DB lists from the files', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 3);
    const page = await listThreadsWithDb(home, { pageSize: 10 });
    expect(page.origin).toBe('filesystem');
    expect(page.items.map((t) => t.id).sort()).toEqual(
      threads
        .filter((t) => !t.archived)
        .map((t) => t.id)
        .sort(),
    );
  });
});
