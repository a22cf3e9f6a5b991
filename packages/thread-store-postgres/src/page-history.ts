/**
 * `PostgresThreadStore.listTurns` and `listItems`: a written thread's history paged through
 * @skein/thread-store's shared pagers, so cursors, views and turn ids are the local store's.
 * Parsed histories stay in the store's `HistoryLineCache`, so paging a long thread reads only
 * the rows appended since the previous page.
 *
 * Crash safety: reads; nothing is written.
 */
import {
  type ItemPage,
  type ListItemsParams,
  type ListTurnsParams,
  pageItems,
  pageTurns,
  type RolloutLine,
  type ThreadId,
  ThreadStoreError,
  type TurnPage,
} from '@skein/thread-store';
import { type PgStoreHost, runPg } from './store-host.js';

/** One page of a thread's turns. */
export async function listPgTurns(host: PgStoreHost, params: ListTurnsParams): Promise<TurnPage> {
  const lines = await historyLines(host, params.threadId, params.includeArchived);
  const page = pageTurns(lines, {
    cursor: params.cursor,
    pageSize: params.pageSize,
    direction: params.sortDirection ?? 'asc',
    view: params.itemsView ?? 'summary',
  });
  // The turns' items share payload objects with the cache: the caller gets its own copy.
  return structuredClone(page);
}

/** One page of a thread's items (of one turn, when asked). */
export async function listPgItems(host: PgStoreHost, params: ListItemsParams): Promise<ItemPage> {
  const lines = await historyLines(host, params.threadId, params.includeArchived);
  return pageItems(lines, {
    turnId: params.turnId,
    cursor: params.cursor,
    pageSize: params.pageSize,
    direction: params.sortDirection ?? 'asc',
  });
}

/**
 * A written thread's history as rollout lines (each item with the time it was accepted),
 * in order. One statement reads the archived flag and the rows after the cached prefix, so
 * both come from one snapshot and paging a long thread rereads nothing.
 */
async function historyLines(
  host: PgStoreHost,
  threadId: ThreadId,
  includeArchived: boolean | undefined,
  retry = true,
): Promise<RolloutLine[]> {
  const cache = host.historyCache;
  const after = cache.cachedCount(threadId);
  const rows = await runPg(() =>
    host.db
      .selectFrom('threads as t')
      .leftJoin('thread_store_threads as s', 's.thread_id', 't.id')
      .leftJoin('thread_store_items as i', (join) =>
        join.onRef('i.thread_id', '=', 't.id').on('i.seq', '>', after),
      )
      .select([
        't.archived',
        't.created_at_ms as generation',
        's.item_count',
        'i.seq',
        'i.item_json',
        'i.created_at_ms',
      ])
      .where('t.id', '=', threadId)
      .orderBy('i.seq')
      .execute(),
  );
  const head = rows[0];
  if (head === undefined) throw ThreadStoreError.threadNotFound(threadId);
  if (Number(head.archived) !== 0 && includeArchived !== true) {
    throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
  }
  const generation = Number(head.generation);
  const count = Number(head.item_count ?? 0);
  const cached = cache.get(threadId, generation);
  if (after > 0 && (cached === undefined || count < cached.lines.length)) {
    // Not the thread whose prefix is cached (deleted and created again): read it whole.
    cache.delete(threadId);
    if (retry) return historyLines(host, threadId, includeArchived, false);
    throw ThreadStoreError.internal(`history of thread ${threadId} changed while reading it`);
  }
  // The cached array grows in place (pages that hold it see a longer prefix, never another
  // history); the entry object is new so the cache's byte count stays right.
  const entry = { generation, lines: cached?.lines ?? [], bytes: cached?.bytes ?? 0 };
  for (const row of rows) {
    if (row.item_json === null) continue; // the join's one row when no rows are new
    // A concurrent page may have cached some of these rows already; seq is dense from 1.
    const seq = Number(row.seq);
    if (seq <= entry.lines.length) continue;
    if (seq !== entry.lines.length + 1) {
      cache.delete(threadId);
      throw ThreadStoreError.internal(`history of thread ${threadId} has a gap at ${seq}`);
    }
    // The parsed object becomes the line (no copy: this runs for every item of the thread).
    const line = JSON.parse(row.item_json) as RolloutLine;
    // Rows from before items were stamped have no time: an empty timestamp reads as unknown.
    line.timestamp =
      row.created_at_ms === null ? '' : new Date(Number(row.created_at_ms)).toISOString();
    entry.lines.push(line);
    entry.bytes += row.item_json.length;
  }
  cache.set(threadId, entry);
  return entry.lines;
}
