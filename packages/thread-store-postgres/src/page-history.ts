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
import { sql } from 'kysely';
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

/** A row of `historyLines`' statement (bigints as PostgreSQL's driver gives them: text). */
interface HistoryRow {
  archived: number | string | null;
  generation: string | number | null;
  item_count: string | number | null;
  seq: string | number | null;
  item_json: string | null;
  created_at_ms: string | number | null;
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
  // One statement, so the thread's row and its items come from one snapshot: the thread's row
  // first, then the items after the cached prefix with its columns null (a long history does
  // not carry the thread's columns on every item row).
  const rows = await runPg(() =>
    sql<HistoryRow>`select t.archived, t.created_at_ms as generation, s.item_count,
        null::bigint as seq, null::text as item_json, null::bigint as created_at_ms
      from threads t left join thread_store_threads s on s.thread_id = t.id
      where t.id = ${threadId}
      union all
      select null, null, null, i.seq, i.item_json, i.created_at_ms
      from thread_store_items i
      where i.thread_id = ${threadId} and i.seq > ${after}
        and exists (select 1 from threads t where t.id = ${threadId})
      order by seq nulls first`.execute(host.db),
  ).then((result) => result.rows);
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
  // Items appended together share their time: each distinct time is formatted once.
  let stampMs: string | number | null = null;
  let stamp = '';
  for (const row of rows) {
    if (row.item_json === null) continue; // the thread's row
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
    if (row.created_at_ms === null) {
      line.timestamp = '';
    } else {
      if (row.created_at_ms !== stampMs) {
        stampMs = row.created_at_ms;
        stamp = new Date(Number(stampMs)).toISOString();
      }
      line.timestamp = stamp;
    }
    entry.lines.push(line);
    entry.bytes += row.item_json.length;
  }
  cache.set(threadId, entry);
  return entry.lines;
}
