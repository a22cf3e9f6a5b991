/** listTurns / listItems on PostgreSQL, beyond the shared conformance suite. */
import { migrateStateSchema, newThreadId } from '@skein/state';
import { type PostgresServer, startPostgres } from '@skein/test-support';
import type { RolloutItem, StoredTurn, ThreadId, TurnPage } from '@skein/thread-store';
import {
  agentMessageItem,
  createThreadParams,
  expectThreadStoreError,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PgStoreDatabase, PostgresThreadStore } from '../src/index.js';
import {
  PG_STORE_MIGRATION_LOCK_TABLE,
  PG_STORE_MIGRATION_TABLE,
  PG_STORE_MIGRATIONS,
} from '../src/schema.js';
import { MIGRATED_STORE_TEMPLATE } from '../src/testing/index.js';

let server: PostgresServer;
const opened: PostgresThreadStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});
afterAll(async () => {
  await server?.stop();
});

async function open(url: string, historyCacheBytes?: number): Promise<PostgresThreadStore> {
  const store = await PostgresThreadStore.open({
    connectionString: url,
    maxConnections: 2,
    ...(historyCacheBytes === undefined ? {} : { historyCacheBytes }),
  });
  opened.push(store);
  return store;
}

/** A fresh database, a writer store with a newly created thread, and a reader store beside it. */
async function writerAndReader() {
  const url = await server.cloneDatabase(MIGRATED_STORE_TEMPLATE);
  const writer = await open(url);
  const reader = await open(url);
  const params = createThreadParams('/work/project');
  await writer.createThread(params);
  return { url, writer, reader, params, threadId: params.threadId };
}

function turnAbortedItem(turnId: string, reason: string): RolloutItem {
  return { type: 'event_msg', payload: { type: 'turn_aborted', turn_id: turnId, reason } };
}

/** Every turn of a thread, walking pages of `pageSize` in one direction. */
async function walkTurns(
  store: PostgresThreadStore,
  threadId: ThreadId,
  pageSize: number,
  sortDirection: 'asc' | 'desc',
): Promise<StoredTurn[]> {
  const seen: StoredTurn[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const result: TurnPage = await store.listTurns({
      threadId,
      pageSize,
      cursor,
      sortDirection,
      itemsView: 'full',
    });
    expect(result.turns.length).toBeLessThanOrEqual(pageSize);
    seen.push(...result.turns);
    cursor = result.nextCursor;
    if (cursor === null) break;
  }
  return seen;
}

async function adminQuery(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

describe('PostgresThreadStore turns and items', () => {
  it('lists the same turns and items through a second store on another connection', async () => {
    const before = Date.now();
    const { url, writer, reader, threadId } = await writerAndReader();
    // Items before materialization wait in memory; their times are when they were accepted.
    await writer.appendItems({
      threadId,
      items: [
        turnContextItem('/work/project'),
        turnStartedItem('t1'),
        userMessageItem('ask t1'),
        agentMessageItem('answer t1'),
        turnCompleteItem('t1', 'answer t1'),
      ],
    });
    await writer.persistThread(threadId);
    await writer.appendItems({
      threadId,
      items: [turnStartedItem('t2'), userMessageItem('ask t2'), turnAbortedItem('t2', 'stop')],
    });
    await writer.appendItems({
      threadId,
      items: [turnStartedItem('t3'), userMessageItem('ask t3'), agentMessageItem('partial')],
    });
    const after = Date.now();

    const mine = await writer.listTurns({ threadId, pageSize: 10, itemsView: 'full' });
    const theirs = await reader.listTurns({ threadId, pageSize: 10, itemsView: 'full' });
    expect(theirs).toEqual(mine);
    const uncached = await open(url, 0);
    expect(await uncached.listTurns({ threadId, pageSize: 10, itemsView: 'full' })).toEqual(mine);
    expect(theirs.turns.map((turn) => [turn.turnId, turn.status])).toEqual([
      ['t1', 'completed'],
      ['t2', 'interrupted'],
      ['t3', 'inProgress'],
    ]);
    // An abort interrupts the turn without an error, as 0.169's turns on the wire (segmentTurns).
    expect(theirs.turns[1]?.error).toBeNull();
    expect(theirs.turns.map((turn) => turn.items.length)).toEqual([4, 3, 3]);
    for (const turn of theirs.turns) {
      expect(turn.turnCreatedAtMs).toBeGreaterThanOrEqual(before);
      expect(turn.turnCreatedAtMs).toBeLessThanOrEqual(after);
    }

    // The summary view keeps only the messages; the default view is the summary.
    const summary = await reader.listTurns({ threadId, pageSize: 10 });
    expect(summary.turns.map((turn) => turn.itemsView)).toEqual(['summary', 'summary', 'summary']);
    expect(summary.turns[0]?.items.map((item) => (item.payload as { type: string }).type)).toEqual([
      'user_message',
      'agent_message',
    ]);

    // Items: every stored row in order, the session meta at 0 and stamped with creation time.
    const thread = await reader.readThread({ threadId });
    const items = await reader.listItems({ threadId, pageSize: 100 });
    expect(items).toEqual(await writer.listItems({ threadId, pageSize: 100 }));
    const history = await reader.loadHistory({ threadId });
    expect(items.items.map((item) => JSON.parse(item.materializedThreadItemJson))).toEqual(
      history.items,
    );
    expect(items.items.map((item) => item.itemOrdinal)).toEqual(history.items.map((_, i) => i));
    expect(items.items[0]?.turnId).toBeNull();
    expect(items.items[0]?.itemCreatedAtMs).toBe(thread.createdAtMs);
    const times = items.items.map((item) => item.itemCreatedAtMs ?? -1);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(before);
    const second = await reader.listItems({ threadId, turnId: 't2', pageSize: 100 });
    expect(second.items.map((item) => item.turnId)).toEqual(['t2', 't2', 't2']);
  });

  it('pages a long thread in both directions without gaps or repeats', async () => {
    const { writer, reader, threadId } = await writerAndReader();
    await writer.persistThread(threadId);
    const ids = Array.from({ length: 23 }, (_, index) => `turn-${index}`);
    for (const id of ids) {
      await writer.appendItems({
        threadId,
        items: [turnStartedItem(id), userMessageItem(`ask ${id}`), turnCompleteItem(id)],
      });
    }
    const forward = await walkTurns(reader, threadId, 5, 'asc');
    expect(forward.map((turn) => turn.turnId)).toEqual(ids);
    const backward = await walkTurns(reader, threadId, 4, 'desc');
    expect(backward.map((turn) => turn.turnId)).toEqual([...ids].reverse());

    // From the middle: the backwards cursor of a page leads to the turns before it.
    const first = await reader.listTurns({ threadId, pageSize: 10 });
    const next = await reader.listTurns({ threadId, pageSize: 10, cursor: first.nextCursor });
    expect(next.turns.map((turn) => turn.turnId)).toEqual(ids.slice(10, 20));
    const back = await reader.listTurns({
      threadId,
      pageSize: 3,
      cursor: next.backwardsCursor,
      sortDirection: 'desc',
    });
    expect(back.turns.map((turn) => turn.turnId)).toEqual(['turn-9', 'turn-8', 'turn-7']);

    // Items pages of one turn, both ways.
    const turnItems = await reader.listItems({ threadId, turnId: 'turn-5', pageSize: 2 });
    expect(turnItems.items).toHaveLength(2);
    const rest = await reader.listItems({
      threadId,
      turnId: 'turn-5',
      pageSize: 2,
      cursor: turnItems.nextCursor,
    });
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    expect(rest.items[0]?.itemOrdinal).toBe((turnItems.items[1]?.itemOrdinal ?? 0) + 1);

    await expectThreadStoreError(
      reader.listTurns({ threadId, pageSize: 5, cursor: 'not a cursor' }),
      'InvalidRequest',
      'invalid cursor',
    );
    await expectThreadStoreError(
      reader.listItems({ threadId, pageSize: 5, cursor: 'not a cursor' }),
      'InvalidRequest',
      'invalid cursor',
    );
  });

  it('refuses an archived thread unless includeArchived, and an unknown one', async () => {
    const { writer, reader, threadId } = await writerAndReader();
    await writer.appendItems({
      threadId,
      items: [turnStartedItem('t1'), userMessageItem('archived ask'), turnCompleteItem('t1')],
    });
    await writer.shutdownThread(threadId);
    const active = await reader.listTurns({ threadId, pageSize: 10 });
    await writer.archiveThread({ threadId });

    await expectThreadStoreError(
      reader.listTurns({ threadId, pageSize: 10 }),
      'InvalidRequest',
      `thread ${threadId} is archived`,
    );
    await expectThreadStoreError(
      reader.listItems({ threadId, pageSize: 10 }),
      'InvalidRequest',
      `thread ${threadId} is archived`,
    );
    expect(await reader.listTurns({ threadId, pageSize: 10, includeArchived: true })).toEqual(
      active,
    );
    const items = await reader.listItems({ threadId, pageSize: 10, includeArchived: true });
    expect(items.items.map((item) => item.turnId)).toEqual([null, 't1', 't1', 't1']);

    await writer.unarchiveThread({ threadId });
    expect(await reader.listTurns({ threadId, pageSize: 10 })).toEqual(active);

    const unknown = newThreadId();
    await expectThreadStoreError(
      reader.listTurns({ threadId: unknown, pageSize: 10 }),
      'ThreadNotFound',
    );
    await expectThreadStoreError(
      reader.listItems({ threadId: unknown, pageSize: 10 }),
      'ThreadNotFound',
    );
  });

  it('lists a thread with no stored rows yet as empty once materialized', async () => {
    const url = await server.createDatabase();
    const store = await open(url);
    const params = createThreadParams('/work/project');
    await store.createThread(params);
    // Not materialized: nothing is durable, so the thread is not there for other readers.
    await expectThreadStoreError(
      store.listTurns({ threadId: params.threadId, pageSize: 10 }),
      'ThreadNotFound',
    );
    await store.persistThread(params.threadId);
    const page = await store.listTurns({ threadId: params.threadId, pageSize: 10 });
    expect(page).toEqual({ turns: [], nextCursor: null, backwardsCursor: null });
    const items = await store.listItems({ threadId: params.threadId, pageSize: 10 });
    expect(items.items.map((item) => JSON.parse(item.materializedThreadItemJson).type)).toEqual([
      'session_meta',
    ]);
  });

  it('upgrades a database written before items had times: old rows list with unknown times', async () => {
    const url = await server.createDatabase();
    // A database at the first release of the store's schema (0001 only).
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const db = new Kysely<PgStoreDatabase>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrateStateSchema(db);
      const first = PG_STORE_MIGRATIONS['0001_history_tables'];
      if (first === undefined) throw new Error('migration 0001 is missing');
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => ({ '0001_history_tables': first }) },
        migrationTableName: PG_STORE_MIGRATION_TABLE,
        migrationLockTableName: PG_STORE_MIGRATION_LOCK_TABLE,
      });
      const result = await migrator.migrateToLatest();
      expect(result.error).toBeUndefined();
    } finally {
      await db.destroy();
    }
    const columns = await adminQuery(
      url,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'thread_store_items'`,
    );
    expect(columns.rows.map((row) => row.column_name)).not.toContain('created_at_ms');

    // The store migrates the old schema forward on open; then old rows are simulated by
    // clearing the times of a thread's first items.
    const store = await open(url);
    const params = createThreadParams('/work/project');
    const { threadId } = params;
    await store.createThread(params);
    await store.appendItems({
      threadId,
      items: [turnStartedItem('old'), userMessageItem('old ask'), turnCompleteItem('old')],
    });
    await store.persistThread(threadId);
    await store.appendItems({
      threadId,
      items: [turnStartedItem('new'), userMessageItem('new ask'), turnCompleteItem('new')],
    });
    await adminQuery(
      url,
      'UPDATE thread_store_items SET created_at_ms = NULL WHERE thread_id = $1 AND seq <= 4',
      [threadId],
    );
    const page = await store.listTurns({ threadId, pageSize: 10 });
    expect(page.turns.map((turn) => turn.turnId)).toEqual(['old', 'new']);
    expect(page.turns[0]?.turnCreatedAtMs).toBeNull();
    expect(page.turns[1]?.turnCreatedAtMs).toEqual(expect.any(Number));
    const items = await store.listItems({ threadId, pageSize: 10 });
    expect(items.items.map((item) => item.itemCreatedAtMs === null)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('sees turns appended by another store between pages, and a thread deleted and made again', async () => {
    const { writer, reader, params, threadId } = await writerAndReader();
    await writer.appendItems({
      threadId,
      items: [turnStartedItem('t1'), userMessageItem('one'), turnCompleteItem('t1')],
    });
    await writer.persistThread(threadId);
    const first = await reader.listTurns({ threadId, pageSize: 1, itemsView: 'full' });
    expect(first.turns.map((turn) => turn.turnId)).toEqual(['t1']);
    expect(first.nextCursor).toBeNull();

    // The page a caller got is its own: changing it does not change later pages.
    const payload = first.turns[0]?.items[1]?.payload as { message: string };
    payload.message = 'changed by the caller';

    await writer.appendItems({
      threadId,
      items: [turnStartedItem('t2'), userMessageItem('two'), turnCompleteItem('t2')],
    });
    const again = await reader.listTurns({ threadId, pageSize: 1, itemsView: 'full' });
    expect(again.nextCursor).not.toBeNull();
    expect(again.turns[0]?.items[1]?.payload).toMatchObject({ message: 'one' });
    const next = await reader.listTurns({ threadId, pageSize: 1, cursor: again.nextCursor });
    expect(next.turns.map((turn) => turn.turnId)).toEqual(['t2']);
    const items = await reader.listItems({ threadId, pageSize: 100 });
    expect(items.items.map((item) => item.itemOrdinal)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    // Deleted and created again under the same id: the reader lists the new history.
    await writer.shutdownThread(threadId);
    await writer.deleteThread({ threadId });
    await expectThreadStoreError(reader.listTurns({ threadId, pageSize: 5 }), 'ThreadNotFound');
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new creation instant
    await writer.createThread(params);
    // Longer than before, so only the creation instant tells the histories apart.
    const freshIds = ['f1', 'f2', 'f3'];
    await writer.appendItems({
      threadId,
      items: freshIds.flatMap((id) => [
        turnStartedItem(id),
        userMessageItem(id),
        turnCompleteItem(id),
      ]),
    });
    await writer.persistThread(threadId);
    const fresh = await reader.listTurns({ threadId, pageSize: 10 });
    expect(fresh.turns.map((turn) => turn.turnId)).toEqual(freshIds);
  });

  it('rereads a thread whose stored history got shorter than what a reader holds', async () => {
    const { url, writer, reader, threadId } = await writerAndReader();
    await writer.appendItems({
      threadId,
      items: ['a', 'b', 'c'].flatMap((id) => [turnStartedItem(id), turnCompleteItem(id)]),
    });
    await writer.shutdownThread(threadId);
    expect((await reader.listTurns({ threadId, pageSize: 10 })).turns).toHaveLength(3);
    // Same thread row (same creation time), fewer rows: what a restore from an older backup
    // looks like to a reader that cached the longer history.
    await adminQuery(url, 'DELETE FROM thread_store_items WHERE thread_id = $1 AND seq > 3', [
      threadId,
    ]);
    await adminQuery(url, 'UPDATE thread_store_threads SET item_count = 3 WHERE thread_id = $1', [
      threadId,
    ]);
    const page = await reader.listTurns({ threadId, pageSize: 10 });
    expect(page.turns.map((turn) => [turn.turnId, turn.status])).toEqual([['a', 'completed']]);
  });
});
