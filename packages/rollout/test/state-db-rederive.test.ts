import { appendFileSync } from 'node:fs';
import type { StateDb } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb, listThreadsWithDb } from '../src/index.js';
import { type WrittenThread, writeLegacyRollout } from './state-db-helpers.js';

/*
 * A default search re-derives its DB hits from their rollouts on every call, as Codex does; a
 * hit whose rollout and row are both as the last re-derive left them is not re-derived again
 * (it would read the whole file to write the same row). Any change to either brings it back.
 */

const handles: StateDb[] = [];
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

async function searchedHome() {
  const home = makeTempDir();
  const threads = [0, 1, 2].map((index) => writeLegacyRollout(home, { index }));
  const db = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
  handles.push(db);
  const hit = threads[1] as WrittenThread;
  db.sqlite.prepare(`UPDATE threads SET title = 'Quokka notes' WHERE id = ?`).run(hit.id);
  // What a re-derive read is kept only once the file's times are settled (the racy-stat rule:
  // 100 ms on this file system), and writing the rollouts just now set their ctimes.
  await new Promise((resolve) => setTimeout(resolve, 150));
  const search = async () => {
    const page = await listThreadsWithDb(home, { pageSize: 5, stateDb: db, searchTerm: 'Quokka' });
    expect(page.items.map((t) => t.id)).toEqual([hit.id]);
    return page.items[0];
  };
  const totalChanges = () => db.sqlite.prepare('select total_changes()').pluck().get() as number;
  return { db, hit, search, totalChanges };
}

describe('a repeated default search', () => {
  it('writes nothing while neither the hit rollout nor its row changed', async () => {
    const { search, totalChanges } = await searchedHome();
    const first = await search();
    expect(first?.model).toBe('gpt-5');
    const changes = totalChanges();
    const again = await search();
    expect(again).toEqual(first);
    expect(totalChanges()).toBe(changes);
  });

  it('re-derives a hit whose row this connection changed', async () => {
    const { db, hit, search } = await searchedHome();
    await search();
    db.sqlite.prepare(`UPDATE threads SET model = 'db-model' WHERE id = ?`).run(hit.id);
    expect((await search())?.model).toBe('gpt-5');
  });

  it('re-derives a hit whose row another process changed', async () => {
    const { db, hit, search } = await searchedHome();
    await search();
    const other = new Database(db.path);
    try {
      other.prepare(`UPDATE threads SET model = 'their-model' WHERE id = ?`).run(hit.id);
    } finally {
      other.close();
    }
    expect((await search())?.model).toBe('gpt-5');
  });

  it("re-derives a hit in the allocator's hot second each time, moving its time on as Codex does", async () => {
    const home = makeTempDir();
    const threads = [0, 1, 2].map((index) => writeLegacyRollout(home, { index }));
    const db = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
    handles.push(db);
    const [old, , newest] = threads as WrittenThread[];
    for (const t of [old, newest] as WrittenThread[]) {
      db.sqlite.prepare(`UPDATE threads SET title = 'Quokka notes' WHERE id = ?`).run(t.id);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    const updatedAt = async () => {
      const page = await listThreadsWithDb(home, {
        pageSize: 5,
        stateDb: db,
        searchTerm: 'Quokka',
      });
      return new Map(page.items.map((t) => [t.id, t.updatedAtMs]));
    };
    // The newest file's time is the high-water mark: each re-derive allocates mark + 1 (§5.5);
    // the older one keeps its file time, and is not re-derived again.
    const first = await updatedAt();
    const second = await updatedAt();
    const third = await updatedAt();
    expect(first.get(old!.id)).toBe(old!.mtimeMs);
    expect([second, third].map((m) => m.get(old!.id))).toEqual([old!.mtimeMs, old!.mtimeMs]);
    expect(first.get(newest!.id)).toBe(newest!.mtimeMs + 1);
    expect([second, third].map((m) => m.get(newest!.id))).toEqual([
      newest!.mtimeMs + 2,
      newest!.mtimeMs + 3,
    ]);
  });

  it('re-derives a hit whose rollout grew', async () => {
    const { hit, search } = await searchedHome();
    await search();
    const turn = {
      timestamp: new Date().toISOString(),
      type: 'turn_context',
      payload: { cwd: hit.cwd, approval_policy: 'never', model: 'gpt-6', summary: 'auto' },
    };
    appendFileSync(hit.path, `${JSON.stringify(turn)}\n`);
    expect((await search())?.model).toBe('gpt-6');
  });
});
