/**
 * `PostgresThreadStore.searchThreads`: threads whose visible conversation (user and agent
 * messages of their history rows) contains the term, case-insensitively, in the listing's
 * order and keyset (state's `afterThreadCursor`), with one snippet around each thread's first
 * match.
 *
 * Crash safety: a read; nothing is written.
 */
import { decodeThreadCursor, encodeSessionSource, encodeThreadCursor } from '@skein/protocol';
import {
  afterThreadCursor,
  MAX_THREAD_PAGE_SIZE,
  type ThreadMetadata,
  threadRowToMetadata,
} from '@skein/state';
import {
  type SearchThreadsParams,
  type ThreadSearchPage,
  ThreadStoreError,
} from '@skein/thread-store';
import { type Kysely, sql } from 'kysely';
import { storedThreadFromMetadata, type ThreadExtras } from './codec.js';
import type { PgStoreDatabase } from './schema.js';

/** What a search reads: the database, and the store's per-thread extras (token usage, ...). */
export interface PostgresSearchHost {
  db: Kysely<PgStoreDatabase>;
  extrasFor(ids: readonly string[]): Promise<Map<string, ThreadExtras>>;
}

/** One page of threads whose visible messages contain the term (see this file's header). */
export async function searchPostgresThreads(
  host: PostgresSearchHost,
  params: SearchThreadsParams,
): Promise<ThreadSearchPage> {
  const term = params.searchTerm;
  if (term === '') throw ThreadStoreError.invalidRequest('thread/search requires search_term');
  if (!Number.isInteger(params.pageSize) || params.pageSize < 1) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  const pageSize = Math.min(params.pageSize, MAX_THREAD_PAGE_SIZE);
  const anchor = params.cursor ? decodeThreadCursor(params.cursor) : null;
  if (params.cursor && anchor === null) {
    throw ThreadStoreError.invalidRequest(`invalid cursor: ${params.cursor}`);
  }
  const sortKey = params.sortKey ?? 'createdAt';
  const direction = params.sortDirection ?? 'desc';
  const column =
    sortKey === 'updatedAt'
      ? 'updated_at_ms'
      : sortKey === 'recencyAt'
        ? 'recency_at_ms'
        : 'created_at_ms';
  const visibleText = sql<string>`(i.item_json::jsonb -> 'payload' ->> 'message')`;
  const needle = term.toLowerCase();
  const matches = (threadId: ReturnType<typeof sql.ref>) => sql<boolean>`EXISTS (
    SELECT 1 FROM thread_store_items i
    WHERE i.thread_id = ${threadId} AND i.item_json::jsonb ->> 'type' = 'event_msg'
      AND strpos(lower(${visibleText}), ${needle}) > 0)`;
  let query = host.db
    .selectFrom('threads')
    .selectAll()
    .where('archived', '=', params.archived === true ? 1 : 0)
    .where('preview', '<>', '')
    .where(matches(sql.ref('threads.id')));
  const sources = params.allowedSources ?? [];
  if (sources.length > 0) query = query.where('source', 'in', sources.map(encodeSessionSource));
  if (anchor) {
    query = query.where(
      afterThreadCursor('postgres', sql.ref(column), sql.ref('id'), direction, anchor),
    );
  }
  const rows = await query
    .orderBy(column, direction)
    .orderBy('id', direction)
    .limit(pageSize + 1)
    .execute();
  const metas = rows.slice(0, pageSize).map(threadRowToMetadata);
  const extras = await host.extrasFor(metas.map((meta) => meta.id));
  const items = [];
  for (const meta of metas) {
    const first = await sql<{ text: string }>`
      SELECT ${visibleText} AS text FROM thread_store_items i
      WHERE i.thread_id = ${meta.id} AND i.item_json::jsonb ->> 'type' = 'event_msg'
        AND strpos(lower(${visibleText}), ${needle}) > 0
      ORDER BY i.seq LIMIT 1`.execute(host.db);
    items.push({
      thread: storedThreadFromMetadata(meta, extras.get(meta.id)),
      snippet: snippetAround(first.rows[0]?.text ?? '', term),
    });
  }
  const last = metas[metas.length - 1];
  const position = (meta: ThreadMetadata) =>
    sortKey === 'createdAt'
      ? meta.createdAtMs
      : sortKey === 'updatedAt'
        ? meta.updatedAtMs
        : meta.recencyAtMs;
  return {
    items,
    nextCursor:
      rows.length > pageSize && last
        ? encodeThreadCursor({ timestampMs: position(last), threadId: last.id })
        : null,
  };
}

/** Up to ~40 characters before and ~80 after the first match, on one line. */
function snippetAround(text: string, term: string): string {
  const at = text.toLowerCase().indexOf(term.toLowerCase());
  if (at < 0) return text.slice(0, 120);
  const start = Math.max(0, at - 40);
  const end = Math.min(text.length, at + term.length + 80);
  const body = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}
