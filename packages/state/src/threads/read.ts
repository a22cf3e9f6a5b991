import type { ThreadMetadata } from '@skein/protocol';
import {
  decodeThreadCursor,
  encodeThreadCursor,
  type SortDirection,
  type ThreadCursor,
  type ThreadSortKey,
} from '@skein/protocol';
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { executeShaped } from '../compiled-shapes.js';
import type { StateContext } from '../context.js';
import { afterThreadCursor, containsText } from '../dialect.js';
import { StateError } from '../errors.js';
import { sortColumnOf } from '../profile.js';
import type { StateDatabase } from '../schema.js';
import { recencyInSidecar, refreshSidecarRecency, SIDECAR_SCHEMA } from '../sidecar/recency.js';
import { METADATA_COLUMNS, rowToMetadata, type ThreadRow } from './row.js';

type Eb = ExpressionBuilder<StateDatabase, 'threads'>;

/** The `threads.<column>` references of the metadata columns this table has. */
function metadataColumnRefs(ctx: StateContext, except?: string): string[] {
  return METADATA_COLUMNS.filter((c) => c !== except && ctx.profile.columns.has(c)).map(
    (c) => `threads.${c}`,
  );
}

/**
 * `select` over `threads` returning what `rowToMetadata` reads: its columns (`METADATA_COLUMNS`
 * the table has), plus (Codex layout, which has no parent column) the parent from the spawn
 * edge.
 */
export function selectThreadRows(
  ctx: StateContext,
  // biome-ignore lint/suspicious/noExplicitAny: the selection's shape is ThreadRow.
): SelectQueryBuilder<StateDatabase, 'threads', any> {
  // biome-ignore lint/suspicious/noExplicitAny: column names checked against the profile.
  const query = ctx.db.selectFrom('threads').select(metadataColumnRefs(ctx) as any);
  if (ctx.profile.layout !== 'codex') return query;
  const withParent = query.select(
    sql<string | null>`(select e.parent_thread_id from thread_spawn_edges e
      where e.child_thread_id = threads.id)`.as('spawn_parent_id'),
  );
  if (!recencyInSidecar(ctx)) return withParent;
  return withParent.select(
    sql<number>`(select r.recency_at_ms from ${sql.raw(SIDECAR_SCHEMA)}.skein_thread_recency r
      where r.thread_id = threads.id)`.as('recency_at_ms'),
  );
}

/**
 * `selectThreadRows` driven by the sidecar's recency rows (alias `sr`), for a recency listing on
 * a Codex 0.131 DB.
 */
function selectSidecarRecencyRows(
  ctx: StateContext,
  // biome-ignore lint/suspicious/noExplicitAny: the selection's shape is ThreadRow.
): SelectQueryBuilder<StateDatabase, 'threads', any> {
  // biome-ignore lint/suspicious/noExplicitAny: the sidecar table is not in Codex's schema type.
  const db = ctx.db as Kysely<any>;
  return db
    .selectFrom(`${SIDECAR_SCHEMA}.skein_thread_recency as sr`)
    .crossJoin('threads')
    .whereRef('threads.id', '=', 'sr.thread_id')
    .select(metadataColumnRefs(ctx, 'recency_at_ms'))
    .select([
      'sr.recency_at_ms as recency_at_ms',
      sql<string | null>`(select e.parent_thread_id from thread_spawn_edges e
        where e.child_thread_id = threads.id)`.as('spawn_parent_id'),
    ]);
}

/** A thread's metadata row by id, or undefined. */
export async function getThread(
  ctx: StateContext,
  id: string,
): Promise<ThreadMetadata | undefined> {
  const row = (await selectThreadRows(ctx).where('threads.id', '=', id).executeTakeFirst()) as
    | ThreadRow
    | undefined;
  return row ? rowToMetadata(row, ctx.profile) : undefined;
}

/** Metadata rows for many ids (missing ids are left out), in chunks of 500. */
export async function getThreads(
  ctx: StateContext,
  ids: readonly string[],
): Promise<Map<string, ThreadMetadata>> {
  const out = new Map<string, ThreadMetadata>();
  // The selection depends on the layout and on where recency lives (see `selectThreadRows`).
  const selection = `${ctx.profile.layout}:${recencyInSidecar(ctx)}`;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length === 0) break;
    const rows = (await executeShaped(
      ctx.db,
      `getThreads:${selection}:${chunk.length}`,
      chunk,
      (v) => selectThreadRows(ctx).where('threads.id', 'in', v as string[]),
    )) as ThreadRow[];
    for (const row of rows) out.set(row.id, rowToMetadata(row, ctx.profile));
  }
  return out;
}

/** Where a thread's file is and whether it is archived: what a read-repair compares. */
export type ThreadLocation = Pick<
  ThreadMetadata,
  'id' | 'rolloutPath' | 'archived' | 'archivedAtMs' | 'updatedAtMs'
>;

/** The columns `ThreadLocation` is read from, those of them the layout has. */
const LOCATION_COLUMNS = [
  'id',
  'rollout_path',
  'archived',
  'archived_at',
  'archived_at_ms',
  'updated_at',
  'updated_at_ms',
] as const;

/**
 * `ThreadLocation`s for many ids (missing ids are left out), in chunks of 500: a handful of
 * columns instead of every one (a listing checks dozens of rows per page this way).
 */
export async function getThreadLocations(
  ctx: StateContext,
  ids: readonly string[],
): Promise<Map<string, ThreadLocation>> {
  const out = new Map<string, ThreadLocation>();
  const columns = LOCATION_COLUMNS.filter((column) => ctx.profile.columns.has(column));
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length === 0) break;
    const rows = (await executeShaped(
      ctx.db,
      `getThreadLocations:${columns.join(',')}:${chunk.length}`,
      chunk,
      (v) =>
        ctx.db
          .selectFrom('threads')
          .select(columns)
          .where('threads.id', 'in', v as string[]),
    )) as ThreadRow[];
    for (const row of rows) {
      const { id, rolloutPath, archived, archivedAtMs, updatedAtMs } = rowToMetadata(
        row,
        ctx.profile,
      );
      out.set(row.id, { id, rolloutPath, archived, archivedAtMs, updatedAtMs });
    }
  }
  return out;
}

/** `rollout_path` of a thread, optionally only when its archived flag matches. */
export async function findRolloutPathById(
  ctx: StateContext,
  id: string,
  archived?: boolean,
): Promise<string | undefined> {
  let query = ctx.db.selectFrom('threads').select('rollout_path').where('id', '=', id);
  if (archived !== undefined) query = query.where('archived', '=', archived ? 1 : 0);
  const row = await query.executeTakeFirst();
  return row?.rollout_path;
}

// ---------------------------------------------------------------------------------------------
// Listing

/** The most rows one `listThreads` page holds; a larger page size reads this many. */
export const MAX_THREAD_PAGE_SIZE = 1000;

/**
 * A `listThreads` query: page size and cursor, sort, the archived collection, and filters
 * (sources, providers, cwds, search term).
 */
export interface ListThreadsParams {
  /** Rows per page: at least 1 (else `InvalidArgument`); more than 1000 reads 1000. */
  pageSize: number;
  /** `nextCursor` or `backwardsCursor` of an earlier page (see `ThreadPage`). */
  cursor?: string | null;
  sortKey?: ThreadSortKey;
  sortDirection?: SortDirection;
  /** Archived threads only (true) or non-archived only (false, the default). */
  archived?: boolean;
  /** Encoded sources (as stored); empty or absent = all. */
  sources?: readonly string[] | null;
  /** Providers; empty or absent = all. */
  modelProviders?: readonly string[] | null;
  /** Exact cwds; absent/null = all, `[]` = nothing. */
  cwds?: readonly string[] | null;
  /**
   * Case-sensitive substring of the name, the title or (Codex's DB, as 0.169 searches it) the
   * preview.
   */
  searchTerm?: string | null;
  /** Also list threads without a preview (never-messaged threads); lists hide them by default. */
  includeHidden?: boolean;
  /** Only these threads (a relation's members); absent/null = all, `[]` = nothing. */
  threadIds?: readonly string[] | null;
}

/**
 * A page of `listThreads`: rows, the cursor of the next page, a cursor back towards the start, and
 * how many rows were scanned.
 */
export interface ThreadPage {
  items: ThreadMetadata[];
  /** Continues after the last item in the same direction; null on the last page. */
  nextCursor: string | null;
  /**
   * Anchor of the first item: pass it with the opposite `sortDirection` to get the items before
   * this page (nearest first). Null on an empty page.
   */
  backwardsCursor: string | null;
  /** Rows the query fetched. */
  numScanned: number;
}

/** Reads a thread's position for a sort key (what cursors encode). */
export function threadSortTime(meta: ThreadMetadata, sortKey: ThreadSortKey): number {
  if (sortKey === 'createdAt') return meta.createdAtMs;
  if (sortKey === 'updatedAt') return meta.updatedAtMs;
  return meta.recencyAtMs || meta.updatedAtMs;
}

/**
 * One keyset-paged page of thread rows with `thread/list`'s filters (threads without a preview are
 * hidden unless asked for). Cursors are stable under concurrent inserts.
 */
export async function listThreads(
  ctx: StateContext,
  params: ListThreadsParams,
): Promise<ThreadPage> {
  if (!(params.pageSize >= 1)) {
    throw new StateError('InvalidArgument', `page_size must be at least 1: ${params.pageSize}`);
  }
  const pageSize = Math.min(Math.trunc(params.pageSize), MAX_THREAD_PAGE_SIZE);
  const empty: ThreadPage = { items: [], nextCursor: null, backwardsCursor: null, numScanned: 0 };
  if (params.cwds && params.cwds.length === 0) return empty;
  if (params.threadIds && params.threadIds.length === 0) return empty;
  const sortKey = params.sortKey ?? 'createdAt';
  const direction = params.sortDirection ?? 'desc';
  const column = sortColumnOf(ctx.profile, sortKey);
  const anchor = params.cursor ? decodeThreadCursor(params.cursor) : null;
  if (params.cursor && anchor === null) {
    throw new StateError('InvalidCursor', `invalid cursor: ${params.cursor}`);
  }

  const term = params.searchTerm;
  // The search index narrows a rare term to a few ids; the substring test below stays the rule.
  const candidates = term ? (ctx.search?.candidateIds(term) ?? null) : null;
  if (candidates !== null && candidates.length === 0) return empty;
  // With candidate ids, the other terms must not steer SQLite to an index: without statistics
  // it takes `archived = ?` for selective and walks half the table instead of looking up the
  // ids by primary key. A unary `+` keeps a term out of index selection without changing what
  // it matches.
  // Without candidates, a page walks the sort column's index and stops after a page of rows:
  // `source`, `model_provider` and a non-archived listing's `archived` are kept out of index
  // selection too (without statistics SQLite would look them up and sort all the rows they
  // match: 10x slower for the default listing). A cwd filter keeps its term (its own
  // archived+cwd index), and so does an archived listing while archived threads are few (see
  // `archivedAreCommon`).
  // A Codex 0.131 DB's recency lives in the sidecar: the listing walks the sidecar's recency
  // index (the outer table of a CROSS JOIN, which SQLite keeps outer) and looks each row up.
  const sidecarRecency = sortKey === 'recencyAt' && recencyInSidecar(ctx);
  const walkArchived =
    ctx.dialect === 'sqlite' &&
    params.archived === true &&
    !params.cwds &&
    candidates === null &&
    !sidecarRecency &&
    (await archivedAreCommon(ctx, pageSize));
  const offIndex = (name: string) =>
    candidates !== null ||
    (ctx.dialect === 'sqlite' &&
      (name === 'source' ||
        name === 'model_provider' ||
        (name === 'archived' && ((!params.archived && !params.cwds) || walkArchived))));
  const ref = (name: string) =>
    offIndex(name) ? sql`+${sql.ref(`threads.${name}`)}` : sql.ref(`threads.${name}`);
  if (sidecarRecency) await refreshSidecarRecency(ctx);
  const sources = params.sources && params.sources.length > 0 ? params.sources : [];
  const providers =
    params.modelProviders && params.modelProviders.length > 0 ? params.modelProviders : [];
  const cwds = params.cwds ?? null;
  const threadIds = params.threadIds ?? null;
  // The query's values in a fixed order (see `executeShaped`): archived, the empty preview,
  // sources, providers, cwds, candidate ids, thread ids, the cursor's time and id. The limit is
  // part of the SQL text: SQLite re-prepares a statement whose LIMIT is a bound parameter every
  // time it is bound (its planner reads the value), which cost more than the page itself.
  const values: unknown[] = [params.archived ? 1 : 0, ''];
  values.push(...sources, ...providers, ...(cwds ?? []), ...(candidates ?? []));
  values.push(...(threadIds ?? []));
  if (anchor) values.push(anchor.timestampMs);
  if (anchor?.threadId != null) values.push(anchor.threadId);
  // Built only when the shape is not compiled yet (references cost a parse each).
  const build = (v: readonly unknown[]) => {
    const sortRef = sidecarRecency ? sql.ref('sr.recency_at_ms') : ref(column);
    const idRef = sidecarRecency ? sql.ref('sr.thread_id') : ref('id');
    let at = 2;
    const take = (count: number) => {
      at += count;
      return v.slice(at - count, at);
    };
    let query = (sidecarRecency ? selectSidecarRecencyRows(ctx) : selectThreadRows(ctx)).where(
      ref('archived'),
      '=',
      v[0],
    );
    if (!params.includeHidden) query = query.where(ref('preview'), '<>', v[1]);
    if (sources.length > 0) query = query.where(ref('source'), 'in', take(sources.length));
    if (providers.length > 0) {
      query = query.where(ref('model_provider'), 'in', take(providers.length));
    }
    if (cwds) query = query.where(ref('cwd'), 'in', take(cwds.length));
    if (candidates !== null)
      query = query.where('threads.id', 'in', take(candidates.length) as string[]);
    if (threadIds) query = query.where('threads.id', 'in', take(threadIds.length) as string[]);
    if (term) {
      // On Codex's DB, as 0.169's DB search: the explicit name, the title (the first user
      // message or a legacy name) and the preview (a fork by reference is found by the preview
      // it inherits). Skein's PostgreSQL schema keeps the PostgreSQL store's rule (name and
      // title, which its trigram indexes answer). The term is placed as it is (a search is not
      // cached: PostgreSQL's pattern is computed from it).
      const columns =
        ctx.profile.layout === 'codex' ? ['name', 'title', 'preview'] : ['name', 'title'];
      const searched = columns.filter((c) => ctx.profile.columns.has(c));
      query = query.where((eb: Eb) =>
        eb.or(searched.map((c) => containsText(ctx.dialect, sql.ref(`threads.${c}`), term))),
      );
    }
    if (anchor) {
      const timestampMs = take(1)[0] as number;
      const threadId = anchor.threadId === null ? null : (take(1)[0] as ThreadCursor['threadId']);
      query = query.where(
        afterThreadCursor(ctx.dialect, sortRef, idRef, direction, { timestampMs, threadId }),
      );
    }
    return query
      .orderBy(sortRef, direction)
      .orderBy(idRef, direction)
      .limit(sql.lit(pageSize + 1));
  };
  // Everything the SQL text depends on besides the values. A search is built every time.
  const shape = term
    ? null
    : [
        'threads',
        ctx.dialect,
        ctx.profile.layout,
        recencyInSidecar(ctx),
        sidecarRecency,
        column,
        direction,
        params.archived === true,
        walkArchived,
        params.includeHidden === true,
        sources.length,
        providers.length,
        cwds?.length ?? -1,
        threadIds?.length ?? -1,
        anchor === null ? 'none' : anchor.threadId === null ? 'time' : 'time+id',
        pageSize,
      ].join('|');
  const rows = (
    shape === null
      ? await build(values).execute()
      : await executeShaped(ctx.db, shape, values, build)
  ) as ThreadRow[];
  const numScanned = rows.length;
  const more = rows.length > pageSize;
  const items = rows.slice(0, pageSize).map((row) => rowToMetadata(row, ctx.profile));
  const cursorOf = (meta: ThreadMetadata) =>
    encodeThreadCursor({ timestampMs: threadSortTime(meta, sortKey), threadId: meta.id });
  const first = items[0];
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: more && last ? cursorOf(last) : null,
    backwardsCursor: first ? cursorOf(first) : null,
    numScanned,
  };
}

/**
 * Whether an archived listing walks the sort index, checking each row's flag, instead of
 * looking the archived rows up (`archived` index) and sorting them all. The walk reads about
 * `(pageSize + 1) * total / archived` rows for a page, the lookup all `archived` rows, each a
 * table read and then a place in the sort, measured at ~3 times a walked row's cost: so the walk
 * wins once `3 * archived² > (pageSize + 1) * total`. Without statistics SQLite always takes the
 * lookup: at 100,000 threads, 5% archived, a page of 50 cost 12.8-16.7 ms that way and ~1.2 ms
 * walking; with 0.5% archived the walk would read ~10,000 rows, the lookup sorts 500. Both
 * counts come from indexes (`max(rowid)` stands for the row count).
 */
async function archivedAreCommon(ctx: StateContext, pageSize: number): Promise<boolean> {
  const [counts] = (await executeShaped(ctx.db, 'archivedCounts', [1], (v) =>
    ctx.db
      .selectFrom('threads')
      .select([
        sql<number>`count(*)`.as('archived'),
        sql<number | null>`(select max(rowid) from threads)`.as('total'),
      ])
      .where('archived', '=', v[0] as number),
  )) as { archived: number; total: number | null }[];
  const archived = Number(counts?.archived ?? 0);
  return 3 * archived * archived > (pageSize + 1) * Number(counts?.total ?? 0);
}

/**
 * Threads written in 0.169's paginated mode and created at or after `createdAtMs` (a fork is
 * never older than its source), with their rollout paths: where forks by reference of a thread
 * can be, for the delete-time check that nothing still reads through it.
 */
export async function paginatedThreadsCreatedSince(
  ctx: StateContext,
  createdAtMs: number,
): Promise<{ id: string; rolloutPath: string }[]> {
  if (!ctx.profile.columns.has('history_mode')) return [];
  const rows = await ctx.db
    .selectFrom('threads')
    .select(['id', 'rollout_path'])
    .where('history_mode', '=', 'paginated')
    .where('created_at_ms', '>=', createdAtMs)
    .execute();
  return rows.map((row) => ({ id: row.id, rolloutPath: row.rollout_path }));
}
