import { type ExpressionBuilder, type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { StateContext } from './context.js';
import { decodeThreadCursor, encodeThreadCursor, type ThreadCursor } from './cursor.js';
import { containsText } from './dialect.js';
import { StateError } from './errors.js';
import type { StateDatabase, ThreadsTable } from './schema.js';
import type { ThreadId } from './thread-id.js';
import type { ThreadMemoryModeValue, ThreadMetadata } from './thread-metadata.js';

export type ThreadRow = Selectable<ThreadsTable>;
type Eb = ExpressionBuilder<StateDatabase, 'threads'>;

// ---------------------------------------------------------------------------------------------
// Row mapping

export function threadRowToMetadata(row: ThreadRow): ThreadMetadata {
  return {
    id: row.id as ThreadId,
    rolloutPath: row.rollout_path,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    recencyAtMs: Number(row.recency_at_ms),
    source: row.source,
    threadSource: row.thread_source,
    agentNickname: row.agent_nickname,
    agentRole: row.agent_role,
    agentPath: row.agent_path,
    modelProvider: row.model_provider,
    model: row.model,
    reasoningEffort: row.reasoning_effort,
    cwd: row.cwd,
    cliVersion: row.cli_version,
    title: row.title,
    name: row.name,
    preview: row.preview,
    firstUserMessage: row.first_user_message,
    sandboxPolicy: row.sandbox_policy,
    approvalMode: row.approval_mode,
    tokensUsed: Number(row.tokens_used),
    archived: Number(row.archived) !== 0,
    archivedAtMs: row.archived_at_ms === null ? null : Number(row.archived_at_ms),
    gitSha: row.git_sha,
    gitBranch: row.git_branch,
    gitOriginUrl: row.git_origin_url,
    memoryMode: row.memory_mode as ThreadMemoryModeValue,
    parentThreadId: row.parent_thread_id as ThreadId | null,
    forkedFromId: row.forked_from_id as ThreadId | null,
    historyMode: row.history_mode === 'paginated' ? 'paginated' : 'legacy',
    originator: row.originator,
  };
}

/**
 * The row written for `meta`, with the already allocated times. `preview` falls back to the
 * first user message (spec §5.4); `recency` 0 means "same as updated".
 */
export function metadataToThreadRow(
  meta: ThreadMetadata,
  updatedAtMs: number,
  recencyAtMs: number,
): Insertable<ThreadsTable> {
  return {
    id: meta.id,
    rollout_path: meta.rolloutPath,
    created_at_ms: Math.trunc(meta.createdAtMs),
    updated_at_ms: updatedAtMs,
    recency_at_ms: recencyAtMs,
    source: meta.source,
    thread_source: meta.threadSource,
    agent_nickname: meta.agentNickname,
    agent_role: meta.agentRole,
    agent_path: meta.agentPath,
    model_provider: meta.modelProvider,
    model: meta.model,
    reasoning_effort: meta.reasoningEffort,
    cwd: meta.cwd,
    cli_version: meta.cliVersion,
    title: meta.title,
    name: meta.name,
    preview: meta.preview !== '' ? meta.preview : meta.firstUserMessage,
    first_user_message: meta.firstUserMessage,
    sandbox_policy: meta.sandboxPolicy,
    approval_mode: meta.approvalMode,
    tokens_used: Math.max(0, Math.trunc(meta.tokensUsed)),
    archived: meta.archived ? 1 : 0,
    archived_at_ms: meta.archived ? (meta.archivedAtMs ?? updatedAtMs) : null,
    git_sha: meta.gitSha,
    git_branch: meta.gitBranch,
    git_origin_url: meta.gitOriginUrl,
    memory_mode: meta.memoryMode,
    parent_thread_id: meta.parentThreadId,
    forked_from_id: meta.forkedFromId,
    history_mode: meta.historyMode,
    originator: meta.originator,
  };
}

/** Columns an upsert overwrites as given; the rest follow the rules in `upsertThread`. */
export const PLAIN_UPDATE_COLUMNS = [
  'rollout_path',
  'created_at_ms',
  'updated_at_ms',
  'source',
  'thread_source',
  'agent_nickname',
  'agent_role',
  'agent_path',
  'model_provider',
  'model',
  'reasoning_effort',
  'cwd',
  'cli_version',
  'title',
  'first_user_message',
  'sandbox_policy',
  'approval_mode',
  'tokens_used',
  'archived',
  'archived_at_ms',
] as const;

/** Allocates the row's unique `updated_at_ms` / `recency_at_ms` (spec §5.5). */
export function allocateThreadTimes(
  ctx: StateContext,
  meta: Pick<ThreadMetadata, 'updatedAtMs' | 'recencyAtMs'>,
): { updatedAtMs: number; recencyAtMs: number; recencySupplied: boolean } {
  const updatedAtMs = ctx.updatedClock.allocate(meta.updatedAtMs);
  if (meta.recencyAtMs > 0) {
    return {
      updatedAtMs,
      recencyAtMs: ctx.recencyClock.allocate(meta.recencyAtMs),
      recencySupplied: true,
    };
  }
  ctx.recencyClock.observe(updatedAtMs);
  return { updatedAtMs, recencyAtMs: updatedAtMs, recencySupplied: false };
}

export interface UpsertResult {
  updatedAtMs: number;
  /** The recency written on insert (on update the stored value may be kept). */
  recencyAtMs: number;
}

/**
 * Inserts or updates a thread row (spec §5.4). On an existing row: `preview` is never cleared,
 * existing non-null git fields win, `memory_mode` and `name` are untouched, `recency_at_ms` is
 * kept unless `meta.recencyAtMs` is supplied (> 0; then it only moves forward), `originator`
 * keeps an existing value, and `history_mode` never goes back from `paginated`. A thread-spawn
 * sub-agent source also records the parent → child spawn edge.
 */
export async function upsertThread(ctx: StateContext, meta: ThreadMetadata): Promise<UpsertResult> {
  const times = allocateThreadTimes(ctx, meta);
  const row = metadataToThreadRow(meta, times.updatedAtMs, times.recencyAtMs);
  const spawnParent = spawnParentOfSource(meta.source);
  const write = async (db: Kysely<StateDatabase>) => {
    await db
      .insertInto('threads')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => {
          const set: Record<string, unknown> = {};
          for (const column of PLAIN_UPDATE_COLUMNS) set[column] = eb.ref(`excluded.${column}`);
          set.preview = eb.fn.coalesce(
            eb.fn('nullif', [eb.ref('excluded.preview'), eb.val('')]),
            eb.ref('threads.preview'),
          );
          set.git_sha = eb.fn.coalesce('threads.git_sha', 'excluded.git_sha');
          set.git_branch = eb.fn.coalesce('threads.git_branch', 'excluded.git_branch');
          set.git_origin_url = eb.fn.coalesce('threads.git_origin_url', 'excluded.git_origin_url');
          set.originator = eb.fn.coalesce('threads.originator', 'excluded.originator');
          set.parent_thread_id = eb.fn.coalesce(
            'excluded.parent_thread_id',
            'threads.parent_thread_id',
          );
          set.forked_from_id = eb.fn.coalesce('excluded.forked_from_id', 'threads.forked_from_id');
          set.history_mode = eb
            .case()
            .when('threads.history_mode', '=', 'paginated')
            .then('paginated')
            .else(eb.ref('excluded.history_mode'))
            .end();
          set.recency_at_ms = times.recencySupplied
            ? eb
                .case()
                .when(
                  eb.ref('excluded.recency_at_ms'),
                  '>',
                  eb(eb.ref('threads.recency_at_ms'), '+', 1),
                )
                .then(eb.ref('excluded.recency_at_ms'))
                .else(eb(eb.ref('threads.recency_at_ms'), '+', 1))
                .end()
            : eb.ref('threads.recency_at_ms');
          return set as never;
        }),
      )
      .execute();
    if (spawnParent) await insertSpawnEdge({ ...ctx, db }, spawnParent, meta.id);
  };
  if (spawnParent) await ctx.db.transaction().execute(write);
  else await write(ctx.db);
  return { updatedAtMs: times.updatedAtMs, recencyAtMs: times.recencyAtMs };
}

/** Inserts the row only if no row has this id; returns whether it inserted. */
export async function insertThreadIfAbsent(
  ctx: StateContext,
  meta: ThreadMetadata,
): Promise<boolean> {
  const times = allocateThreadTimes(ctx, meta);
  const row = metadataToThreadRow(meta, times.updatedAtMs, times.recencyAtMs);
  const result = await ctx.db
    .insertInto('threads')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  const spawnParent = spawnParentOfSource(meta.source);
  if (inserted && spawnParent) await insertSpawnEdge(ctx, spawnParent, meta.id);
  return inserted;
}

export async function getThread(
  ctx: StateContext,
  id: string,
): Promise<ThreadMetadata | undefined> {
  const row = await ctx.db
    .selectFrom('threads')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? threadRowToMetadata(row) : undefined;
}

export async function getThreads(
  ctx: StateContext,
  ids: readonly string[],
): Promise<Map<string, ThreadMetadata>> {
  const out = new Map<string, ThreadMetadata>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length === 0) break;
    const rows = await ctx.db.selectFrom('threads').selectAll().where('id', 'in', chunk).execute();
    for (const row of rows) out.set(row.id, threadRowToMetadata(row));
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

export type ThreadSortKey = 'created_at' | 'updated_at' | 'recency_at';
export type SortDirection = 'asc' | 'desc';

export interface ListThreadsParams {
  /** Rows per page (1..1000). */
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
  /** Case-sensitive substring of name, title or preview. */
  searchTerm?: string | null;
  /** Also list threads without a preview (never-messaged threads); lists hide them by default. */
  includeHidden?: boolean;
}

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

const SORT_COLUMN = {
  created_at: 'created_at_ms',
  updated_at: 'updated_at_ms',
  recency_at: 'recency_at_ms',
} as const;

/** Reads a thread's position for a sort key (what cursors encode). */
export function threadSortTime(meta: ThreadMetadata, sortKey: ThreadSortKey): number {
  if (sortKey === 'created_at') return meta.createdAtMs;
  if (sortKey === 'updated_at') return meta.updatedAtMs;
  return meta.recencyAtMs || meta.updatedAtMs;
}

export async function listThreads(
  ctx: StateContext,
  params: ListThreadsParams,
): Promise<ThreadPage> {
  const pageSize = Math.trunc(params.pageSize);
  if (!(pageSize >= 1 && pageSize <= 1000)) {
    throw new StateError('InvalidArgument', `page size must be 1..1000, got ${params.pageSize}`);
  }
  const empty: ThreadPage = { items: [], nextCursor: null, backwardsCursor: null, numScanned: 0 };
  if (params.cwds && params.cwds.length === 0) return empty;
  const sortKey = params.sortKey ?? 'created_at';
  const direction = params.sortDirection ?? 'desc';
  const column = SORT_COLUMN[sortKey];
  const anchor: ThreadCursor | null = params.cursor ? decodeThreadCursor(params.cursor) : null;

  const term = params.searchTerm;
  // The search index narrows a rare term to a few ids; the substring test below stays the rule.
  const candidates = term ? (ctx.search?.candidateIds(term) ?? null) : null;
  if (candidates !== null && candidates.length === 0) return empty;
  // With candidate ids, the other terms must not steer SQLite to an index: without statistics
  // it takes `archived = ?` for selective and walks half the table instead of looking up the
  // ids by primary key (3.3 ms vs 0.8 ms for 100 candidates at 10,000 rows). A unary `+`
  // keeps a term out of index selection without changing what it matches.
  const ref = (column: keyof ThreadsTable & string) =>
    candidates === null ? sql.ref(column) : sql`+${sql.ref(column)}`;
  let query = ctx.db
    .selectFrom('threads')
    .selectAll()
    .where(ref('archived'), '=', params.archived ? 1 : 0);
  if (!params.includeHidden) query = query.where(ref('preview'), '<>', '');
  if (params.sources && params.sources.length > 0)
    query = query.where(ref('source'), 'in', [...params.sources]);
  if (params.modelProviders && params.modelProviders.length > 0) {
    query = query.where(ref('model_provider'), 'in', [...params.modelProviders]);
  }
  if (params.cwds) query = query.where(ref('cwd'), 'in', [...params.cwds]);
  if (candidates !== null) query = query.where('id', 'in', candidates);
  if (term) {
    query = query.where((eb: Eb) =>
      eb.or([
        containsText(ctx.dialect, eb.ref('name'), term),
        containsText(ctx.dialect, eb.ref('title'), term),
        containsText(ctx.dialect, eb.ref('preview'), term),
      ]),
    );
  }
  if (anchor) {
    const op = direction === 'desc' ? '<' : '>';
    const at = ref(column);
    query = query.where((eb: Eb) =>
      anchor.id === null
        ? eb(at, op, anchor.tsMs)
        : eb.or([
            eb(at, op, anchor.tsMs),
            eb.and([eb(at, '=', anchor.tsMs), eb(ref('id'), op, anchor.id)]),
          ]),
    );
  }
  // With candidates, `+` on the sort terms too: SQLite sorts the few candidate rows instead of
  // walking a sort index over the whole table to skip the sort.
  const rows = await query
    .orderBy(ref(column), direction)
    .orderBy(ref('id'), direction)
    .limit(pageSize + 1)
    .execute();
  const numScanned = rows.length;
  const more = rows.length > pageSize;
  const items = rows.slice(0, pageSize).map(threadRowToMetadata);
  const cursorOf = (meta: ThreadMetadata) =>
    encodeThreadCursor({ tsMs: threadSortTime(meta, sortKey), id: meta.id });
  const first = items[0];
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: more && last ? cursorOf(last) : null,
    backwardsCursor: first ? cursorOf(first) : null,
    numScanned,
  };
}

// ---------------------------------------------------------------------------------------------
// Targeted updates

export interface SetArchivedParams {
  archived: boolean;
  /** Where the rollout now lives (moved into or out of `archived_sessions/`). */
  rolloutPath?: string;
  /** When it was archived (ignored on unarchive, where it is cleared). Default: now. */
  archivedAtMs?: number;
  /** New `updated_at` candidate (e.g. the moved file's mtime); allocated like any update. */
  updatedAtMs?: number;
}

/** Sets the archived flag (+ path, archived_at); returns whether the thread exists. */
export async function setThreadArchived(
  ctx: StateContext,
  id: string,
  params: SetArchivedParams,
): Promise<boolean> {
  const now = Date.now();
  const result = await ctx.db
    .updateTable('threads')
    .set({
      archived: params.archived ? 1 : 0,
      archived_at_ms: params.archived ? Math.trunc(params.archivedAtMs ?? now) : null,
      ...(params.rolloutPath !== undefined ? { rollout_path: params.rolloutPath } : {}),
      ...(params.updatedAtMs !== undefined
        ? { updated_at_ms: ctx.updatedClock.allocate(params.updatedAtMs) }
        : {}),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Moves `updated_at_ms` to an allocated time; returns whether the row exists (spec §5.7). */
export async function touchThreadUpdatedAt(
  ctx: StateContext,
  id: string,
  atMs: number,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('threads')
    .set({ updated_at_ms: ctx.updatedClock.allocate(atMs) })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A tri-state field: `undefined` leaves it, `null` clears it, a value sets it. */
export type Clearable<T> = T | null | undefined;

export interface GitInfoPatch {
  sha?: Clearable<string>;
  branch?: Clearable<string>;
  originUrl?: Clearable<string>;
}

/** The literal metadata patch: only present fields change. */
export interface ThreadRowPatch {
  name?: Clearable<string>;
  title?: string;
  memoryMode?: ThreadMemoryModeValue;
  /** `null` clears all three git fields; an object patches field by field. */
  git?: GitInfoPatch | null;
  /** Moves recency forward to at least this time (never back). */
  advanceRecencyAtMs?: number;
  /** Stamps `updated_at_ms` (allocated). */
  updatedAtMs?: number;
}

/** Applies a literal patch to an existing row; returns whether the row exists. */
export async function patchThreadMetadata(
  ctx: StateContext,
  id: string,
  patch: ThreadRowPatch,
): Promise<boolean> {
  const set: Record<string, unknown> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.title !== undefined) set.title = patch.title;
  if (patch.memoryMode !== undefined) set.memory_mode = patch.memoryMode;
  if (patch.git === null) {
    set.git_sha = null;
    set.git_branch = null;
    set.git_origin_url = null;
  } else if (patch.git) {
    if (patch.git.sha !== undefined) set.git_sha = patch.git.sha;
    if (patch.git.branch !== undefined) set.git_branch = patch.git.branch;
    if (patch.git.originUrl !== undefined) set.git_origin_url = patch.git.originUrl;
  }
  if (patch.updatedAtMs !== undefined)
    set.updated_at_ms = ctx.updatedClock.allocate(patch.updatedAtMs);
  let query = ctx.db.updateTable('threads').where('id', '=', id);
  if (patch.advanceRecencyAtMs !== undefined) {
    const target = ctx.recencyClock.allocate(patch.advanceRecencyAtMs);
    query = query.set((eb) => ({
      recency_at_ms: eb
        .case()
        .when('recency_at_ms', '<', target)
        .then(eb.val(target))
        .else(eb.ref('recency_at_ms'))
        .end(),
    }));
  }
  if (Object.keys(set).length === 0 && patch.advanceRecencyAtMs === undefined) {
    const row = await ctx.db
      .selectFrom('threads')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }
  if (Object.keys(set).length > 0) query = query.set(set as never);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes a thread row and its spawn edges (either direction); returns whether a row went. */
export async function deleteThread(ctx: StateContext, id: string): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('thread_spawn_edges')
      .where((eb) => eb.or([eb('parent_thread_id', '=', id), eb('child_thread_id', '=', id)]))
      .execute();
    const result = await trx.deleteFrom('threads').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Spawn edges (the agent tree)

/** Parent id of a `{"subagent":{"thread_spawn":{"parent_thread_id":…}}}` source, else null. */
export function spawnParentOfSource(source: string): string | null {
  if (!source.startsWith('{') || !source.includes('thread_spawn')) return null;
  try {
    const parsed = JSON.parse(source) as {
      subagent?: { thread_spawn?: { parent_thread_id?: unknown } };
    };
    const parent = parsed.subagent?.thread_spawn?.parent_thread_id;
    return typeof parent === 'string' && parent !== '' ? parent : null;
  } catch {
    return null;
  }
}

export async function insertSpawnEdge(
  ctx: Pick<StateContext, 'db'>,
  parentId: string,
  childId: string,
  status = 'open',
): Promise<void> {
  await ctx.db
    .insertInto('thread_spawn_edges')
    .values({
      parent_thread_id: parentId,
      child_thread_id: childId,
      status,
      created_at_ms: Date.now(),
    })
    .onConflict((oc) => oc.column('child_thread_id').doNothing())
    .execute();
}

export async function setSpawnEdgeStatus(
  ctx: StateContext,
  childId: string,
  status: string,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('thread_spawn_edges')
    .set({ status })
    .where('child_thread_id', '=', childId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface SpawnEdge {
  parentId: ThreadId;
  childId: ThreadId;
  status: string;
  /** 1 for children, 2 for grandchildren, ... */
  depth: number;
}

/** Direct children of a thread (spawned sub-agents), oldest edge first. */
export async function listChildThreads(ctx: StateContext, parentId: string): Promise<SpawnEdge[]> {
  const rows = await ctx.db
    .selectFrom('thread_spawn_edges')
    .select(['parent_thread_id', 'child_thread_id', 'status'])
    .where('parent_thread_id', '=', parentId)
    .orderBy('created_at_ms')
    .orderBy('child_thread_id')
    .execute();
  return rows.map((row) => ({
    parentId: row.parent_thread_id as ThreadId,
    childId: row.child_thread_id as ThreadId,
    status: row.status,
    depth: 1,
  }));
}

/** Every descendant of a thread (not the thread itself), breadth first; cycles are cut. */
export async function listDescendantThreads(
  ctx: StateContext,
  rootId: string,
): Promise<SpawnEdge[]> {
  const rows = await ctx.db
    .withRecursive('tree(parent_thread_id, child_thread_id, status, depth)', (db) =>
      db
        .selectFrom('thread_spawn_edges')
        // A literal, not a parameter: PostgreSQL types a recursive CTE's columns from this term.
        .select(['parent_thread_id', 'child_thread_id', 'status', sql<number>`1`.as('depth')])
        .where('parent_thread_id', '=', rootId)
        .unionAll((qb) =>
          qb
            .selectFrom('thread_spawn_edges as e')
            .innerJoin('tree as t', 't.child_thread_id', 'e.parent_thread_id')
            .select([
              'e.parent_thread_id',
              'e.child_thread_id',
              'e.status',
              (eb) => eb(eb.ref('t.depth'), '+', 1).as('depth'),
            ])
            // Bounded: a corrupted edge set with a cycle must not loop forever.
            .where('t.depth', '<', 64)
            .where('e.child_thread_id', '<>', rootId),
        ),
    )
    .selectFrom('tree')
    .select(['parent_thread_id', 'child_thread_id', 'status'])
    .select((eb) => eb.fn.min('depth').as('depth'))
    .groupBy(['parent_thread_id', 'child_thread_id', 'status'])
    .orderBy('depth')
    .orderBy('child_thread_id')
    .execute();
  const seen = new Set<string>();
  const out: SpawnEdge[] = [];
  for (const row of rows) {
    if (seen.has(row.child_thread_id)) continue;
    seen.add(row.child_thread_id);
    out.push({
      parentId: row.parent_thread_id as ThreadId,
      childId: row.child_thread_id as ThreadId,
      status: row.status,
      depth: Number(row.depth),
    });
  }
  return out;
}

/**
 * Gives a fork by reference its base's first user message (preview, first message, title):
 * its history starts with the base's lines. No-op (false) when the base has no preview or the
 * fork already shows it.
 */
export async function inheritFirstUserMessage(
  ctx: StateContext,
  forkId: string,
  baseId: string,
): Promise<boolean> {
  const base = await ctx.db
    .selectFrom('threads')
    .select(['preview', 'first_user_message', 'title'])
    .where('id', '=', baseId)
    .executeTakeFirst();
  if (!base || base.preview === '') return false;
  const result = await ctx.db
    .updateTable('threads')
    .set({
      preview: base.preview,
      first_user_message: base.first_user_message,
      ...(base.title !== '' ? { title: base.title } : {}),
    })
    .where('id', '=', forkId)
    .where('preview', '<>', base.preview)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
