import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteThread,
  getThread,
  listThreads,
  patchThreadMetadata,
  readReadStates,
  SIDECAR_FILE_NAME,
  StateRuntime,
  setThreadArchived,
  touchThreadUpdatedAt,
  updateReadState,
  upsertThread,
} from '../src/index.js';
import { sampleThread } from './helpers.js';

/** The schema objects and migration rows of Codex's file, read by a connection of its own. */
function codexSchemaOf(path: string): unknown {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return {
      objects: db.prepare('select type, name, sql from sqlite_master order by name').all(),
      migrations: db.prepare('select version, checksum from _sqlx_migrations').all(),
    };
  } finally {
    db.close();
  }
}

describe('a Codex 0.131 DB: recency and read receipts kept in the sidecar', () => {
  let home: string;
  let runtime: StateRuntime;
  beforeEach(async () => {
    home = makeTempDir();
    runtime = await StateRuntime.open({ sqliteHome: home, createSchema: '0.131.0' });
  });
  afterEach(async () => {
    await runtime.close();
  });

  it('keeps recency where 0.169 would: a new update time leaves it, a turn start moves it', async () => {
    const t = sampleThread();
    await upsertThread(runtime.ctx, t);
    const start = (await getThread(runtime.ctx, t.id))!;
    expect(start.recencyAtMs).toBe(start.updatedAtMs);

    await touchThreadUpdatedAt(runtime.ctx, t.id, start.updatedAtMs + 60_000);
    await setThreadArchived(runtime.ctx, t.id, {
      archived: false,
      updatedAtMs: start.updatedAtMs + 120_000,
    });
    await upsertThread(runtime.ctx, { ...t, updatedAtMs: start.updatedAtMs + 180_000 });
    const moved = (await getThread(runtime.ctx, t.id))!;
    expect(moved.updatedAtMs).toBe(start.updatedAtMs + 180_000);
    expect(moved.recencyAtMs).toBe(start.recencyAtMs);

    await patchThreadMetadata(runtime.ctx, t.id, {
      advanceRecencyAtMs: start.updatedAtMs + 240_000,
    });
    expect((await getThread(runtime.ctx, t.id))?.recencyAtMs).toBe(start.updatedAtMs + 240_000);
    // Never backwards.
    await patchThreadMetadata(runtime.ctx, t.id, { advanceRecencyAtMs: start.updatedAtMs });
    expect((await getThread(runtime.ctx, t.id))?.recencyAtMs).toBe(start.updatedAtMs + 240_000);
  });

  it('lists and pages by the kept recency, with threads another process added', async () => {
    const threads = [0, 1, 2, 3, 4].map(() => sampleThread());
    for (const t of threads) await upsertThread(runtime.ctx, t);
    // The oldest thread gets a turn: first by recency, last by update time.
    const oldest = threads[0]!;
    await patchThreadMetadata(runtime.ctx, oldest.id, { advanceRecencyAtMs: Date.now() });
    // The newest one is re-derived (its update time moves), which leaves its recency.
    const newest = threads[4]!;
    await touchThreadUpdatedAt(runtime.ctx, newest.id, Date.now() + 60_000);
    // A Codex 0.131 process adds a row on its own connection.
    const codex = new BetterSqlite3(runtime.path);
    const other = sampleThread();
    codex
      .prepare(
        `insert into threads (id, rollout_path, created_at, updated_at, source, model_provider,
           cwd, title, sandbox_policy, approval_mode, created_at_ms, updated_at_ms, first_user_message)
         values (?, ?, ?, ?, 'cli', 'openai', '/w', 'other', '{}', 'never', ?, ?, 'other')`,
      )
      .run(
        other.id,
        other.rolloutPath,
        Math.floor(other.createdAtMs / 1000),
        Math.floor(other.updatedAtMs / 1000),
        other.createdAtMs,
        other.updatedAtMs,
      );
    codex.close();

    const ids: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const result = await listThreads(runtime.ctx, {
        pageSize: 2,
        sortKey: 'recencyAt',
        cursor,
        includeHidden: true,
      });
      ids.push(...result.items.map((item) => item.id));
      cursor = result.nextCursor;
      if (cursor === null) break;
    }
    expect(ids).toEqual([
      oldest.id,
      other.id,
      newest.id,
      threads[3]!.id,
      threads[2]!.id,
      threads[1]!.id,
    ]);
    const byUpdate = await listThreads(runtime.ctx, { pageSize: 10, sortKey: 'updatedAt' });
    expect(byUpdate.items[0]?.id).toBe(newest.id);
    expect(byUpdate.items.at(-1)?.id).toBe(oldest.id);

    await deleteThread(runtime.ctx, other.id);
    const after = await listThreads(runtime.ctx, { pageSize: 10, sortKey: 'recencyAt' });
    expect(after.items.map((item) => item.id)).not.toContain(other.id);
  });

  it('walks the sidecar recency index instead of sorting', async () => {
    const { rows } = await sql<{ detail: string }>`explain query plan
      select threads.id from skein.skein_thread_recency as sr cross join threads
      where threads.id = sr.thread_id and threads.archived = 0 and threads.preview <> ''
      order by sr.recency_at_ms desc, sr.thread_id desc limit 26`.execute(runtime.ctx.db);
    const plan = rows.map((row) => row.detail).join('\n');
    expect(plan).toContain('idx_skein_thread_recency_at_ms');
    expect(plan).not.toContain('TEMP B-TREE');
  });

  it('keeps read receipts with 0.169 semantics', async () => {
    const t = sampleThread();
    await upsertThread(runtime.ctx, t);
    const initial = (await readReadStates(runtime.ctx, [t.id])).get(t.id)!;
    expect(initial).toEqual({ firstUnread: null, revision: `initial:${t.id}` });
    const unread = await updateReadState(runtime.ctx, t.id, 'unread', initial.revision);
    expect(unread.firstUnread).toEqual({ type: 'threadStart' });
    expect((await readReadStates(runtime.ctx, [t.id])).get(t.id)).toEqual(unread);
    await expect(updateReadState(runtime.ctx, t.id, 'read', initial.revision)).rejects.toThrow(
      'read state changed',
    );
    const read = await updateReadState(runtime.ctx, t.id, 'read', unread.revision);
    expect(read.firstUnread).toBeNull();
    await deleteThread(runtime.ctx, t.id);
    expect((await readReadStates(runtime.ctx, [t.id])).get(t.id)?.revision).toBe(`initial:${t.id}`);
  });

  it('writes nothing into Codex file but rows: no schema object, no migration', async () => {
    const before = codexSchemaOf(runtime.path);
    const t = sampleThread();
    await upsertThread(runtime.ctx, t);
    await patchThreadMetadata(runtime.ctx, t.id, { advanceRecencyAtMs: Date.now() });
    await updateReadState(runtime.ctx, t.id, 'unread', null);
    expect(codexSchemaOf(runtime.path)).toEqual(before);
    const sidecar = new BetterSqlite3(join(home, SIDECAR_FILE_NAME), { readonly: true });
    try {
      expect(sidecar.prepare('select count(*) as n from thread_read_receipts').get()).toEqual({
        n: 1,
      });
    } finally {
      sidecar.close();
    }
  });

  it('survives a reopen: the kept recency is read again', async () => {
    const t = sampleThread();
    await upsertThread(runtime.ctx, t);
    await patchThreadMetadata(runtime.ctx, t.id, { advanceRecencyAtMs: t.updatedAtMs + 90_000 });
    await runtime.close();
    runtime = await StateRuntime.open({ sqliteHome: home });
    expect((await getThread(runtime.ctx, t.id))?.recencyAtMs).toBe(t.updatedAtMs + 90_000);
  });
});

describe('a Codex 0.169 DB keeps both in its own tables', () => {
  it('attaches nothing', async () => {
    const runtime = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: '0.169.0' });
    try {
      expect(runtime.ctx.sidecar).toBeUndefined();
      const t = sampleThread();
      await upsertThread(runtime.ctx, t);
      const state = await updateReadState(runtime.ctx, t.id, 'unread', null);
      const { rows } = await sql<{ n: number }>`select count(*) as n from thread_read_receipts
        where revision = ${state.revision}`.execute(runtime.ctx.db);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await runtime.close();
    }
  });
});
