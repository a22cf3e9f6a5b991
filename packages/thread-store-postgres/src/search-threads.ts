/**
 * `PostgresThreadStore.searchThreads`: threads whose visible conversation contains the term,
 * by the same rule as every store (@skein/thread-store's search-text.ts, mirrored in SQL by
 * search-text-sql.ts), in the listing's order and keyset (state's `afterThreadCursor`), with
 * the shared snippet of each thread's first matching item.
 *
 * Crash safety: a read; nothing is written.
 */
import { decodeThreadCursor, encodeSessionSource, encodeThreadCursor } from '@skein/protocol';
import { afterThreadCursor, type ThreadMetadata, threadRowToMetadata } from '@skein/state';
import {
  recordSnippet,
  type SearchThreadsParams,
  type ThreadSearchPage,
  ThreadStoreError,
  validateSearchParams,
} from '@skein/thread-store';
import { type Kysely, sql } from 'kysely';
import { storedThreadFromMetadata, type ThreadExtras } from './codec.js';
import type { PgStoreDatabase } from './schema.js';
import { caseFoldCollation, visibleMatch } from './search-text-sql.js';

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
  const { term, pageSize } = validateSearchParams(params);
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
  const match = visibleMatch(term, await caseFoldCollation(host.db));
  let query = host.db
    .selectFrom('threads')
    .selectAll()
    .where('archived', '=', params.archived === true ? 1 : 0)
    .where('preview', '<>', '')
    .where(
      sql<boolean>`EXISTS (SELECT 1 FROM ${match.from}
        WHERE i.thread_id = ${sql.ref('threads.id')} AND ${match.where})`,
    );
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
  const ids = metas.map((meta) => meta.id);
  const extras = await host.extrasFor(ids);
  // Each thread's first matching item (stopping there, in `seq` order), in one round trip; its
  // snippet is the shared JS rule's.
  const firsts =
    ids.length === 0
      ? []
      : (
          await sql<{ thread_id: string; item_json: string }>`
            SELECT page.id AS thread_id, first.item_json
            FROM unnest(${ids}::text[]) AS page(id)
            CROSS JOIN LATERAL (
              SELECT i.item_json FROM ${match.from}
              WHERE i.thread_id = page.id AND ${match.where}
              ORDER BY i.seq LIMIT 1) AS first`.execute(host.db)
        ).rows;
  const firstItem = new Map(firsts.map((row) => [row.thread_id, row.item_json]));
  const items = metas.map((meta) => {
    const json = firstItem.get(meta.id);
    // '' only if the database and JS fold case differently for this text (no ICU collation).
    const snippet = json === undefined ? null : recordSnippet(JSON.parse(json), term);
    return { thread: storedThreadFromMetadata(meta, extras.get(meta.id)), snippet: snippet ?? '' };
  });
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
