/**
 * `PostgresThreadStore.readThread` and `loadHistory`: a thread's metadata row (with its extras)
 * and, when asked, its whole history in order. A created thread not yet written is read from
 * its writer's pending items.
 *
 * Crash safety: reads; nothing is written.
 */
import {
  type LoadThreadHistoryParams,
  type ReadThreadParams,
  type RolloutItem,
  rejectPaginatedHistoryMode,
  type StoredThread,
  type StoredThreadHistory,
  type ThreadId,
  ThreadStoreError,
} from '@skein/thread-store';
import {
  checkArchivedRead,
  type PgDb,
  type PgStoreHost,
  readThreadMetadata,
  runPg,
  storedThreadOf,
} from './store-host.js';

/** A thread's items in order (see this file's header). */
export async function loadPgHistory(
  host: PgStoreHost,
  params: LoadThreadHistoryParams,
): Promise<StoredThreadHistory> {
  const { threadId } = params;
  const meta = await runPg(() => readThreadMetadata(host.db, threadId));
  if (!meta) {
    const writer = host.writers.get(threadId);
    if (writer && !writer.materialized) {
      return { threadId, items: structuredClone(writer.pending.map((entry) => entry.item)) };
    }
    throw ThreadStoreError.threadNotFound(threadId);
  }
  checkArchivedRead(meta, params.includeArchived);
  rejectPaginatedHistoryMode(meta.historyMode);
  return { threadId, items: await runPg(() => historyItems(host.db, threadId)) };
}

/** A thread, with its history when asked (see this file's header). */
export async function readPgThread(
  host: PgStoreHost,
  params: ReadThreadParams,
): Promise<StoredThread> {
  const { threadId } = params;
  const meta = await runPg(() => readThreadMetadata(host.db, threadId));
  if (!meta) throw ThreadStoreError.threadNotFound(threadId);
  checkArchivedRead(meta, params.includeArchived);
  const thread = await storedThreadOf(host.db, meta);
  if (params.includeHistory === true) {
    rejectPaginatedHistoryMode(meta.historyMode);
    thread.history = { threadId, items: await runPg(() => historyItems(host.db, threadId)) };
  }
  return thread;
}

async function historyItems(db: PgDb, threadId: ThreadId): Promise<RolloutItem[]> {
  const rows = await db
    .selectFrom('thread_store_items')
    .select('item_json')
    .where('thread_id', '=', threadId)
    .orderBy('seq')
    .execute();
  return rows.map((row) => JSON.parse(row.item_json) as RolloutItem);
}
