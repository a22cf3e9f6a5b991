import type { ThreadMetadata } from '@skein/protocol';
import {
  type Expression,
  type ExpressionBuilder,
  expressionBuilder,
  type Kysely,
  type OnConflictBuilder,
  sql,
} from 'kysely';
import type { StateContext } from '../context.js';
import { StateError } from '../errors.js';
import type { StateDatabase } from '../schema.js';
import {
  recencyInSidecar,
  SIDECAR_SCHEMA,
  sidecarRecencyOf,
  suppliedRecency,
  writeSidecarRecency,
} from '../sidecar/recency.js';
import {
  EXISTING_WINS_COLUMNS,
  metadataToRow,
  NEW_WINS_COLUMNS,
  PLAIN_UPDATE_COLUMNS,
  secondsOf,
} from './row.js';
import { insertSpawnEdge, spawnParentOfSource } from './spawn-edges.js';

/** Refuses a write to a DB whose schema Skein does not know (it writes only the files then). */
export function assertWritable(ctx: StateContext): void {
  const reason = ctx.profile.readOnlyReason;
  if (reason !== null)
    throw new StateError('ReadOnly', `state DB is read-only for Skein: ${reason}`);
}

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

/** The times an upsert wrote: `updatedAtMs`, and the recency of an insert. */
export interface UpsertResult {
  updatedAtMs: number;
  /** The recency written on insert (on update the stored value may be kept). */
  recencyAtMs: number;
}

/**
 * Inserts or updates a thread row (spec §5.4), in the table's own layout. On an existing row:
 * `preview` is never cleared, existing non-null git fields and `originator` win, `memory_mode`
 * and `name` are untouched, `recency_at` is kept unless `meta.recencyAtMs` is supplied (> 0;
 * then it only moves forward), and `history_mode` never goes back from `paginated`. An
 * existing row these rules would leave as it is is not written. A thread-spawn sub-agent
 * source also records the parent → child spawn edge.
 */
export async function upsertThread(ctx: StateContext, meta: ThreadMetadata): Promise<UpsertResult> {
  assertWritable(ctx);
  const times = allocateThreadTimes(ctx, meta);
  const row = metadataToRow(meta, times.updatedAtMs, times.recencyAtMs, ctx.profile);
  const columns = ctx.profile.columns;
  const spawnParent = spawnParentOfSource(meta.source);
  const sidecarRecency = times.recencySupplied && recencyInSidecar(ctx);
  const previousRecency = sidecarRecency ? await sidecarRecencyOf(ctx, meta.id) : undefined;
  const write = async (db: Kysely<StateDatabase>) => {
    await db
      .insertInto('threads')
      .values(row)
      .onConflict((oc) =>
        conflictUpdate(oc, ctx.dialect, columns, { recencySupplied: times.recencySupplied }),
      )
      .execute();
    if (spawnParent) await insertSpawnEdge({ ...ctx, db }, spawnParent, meta.id);
  };
  if (spawnParent) await ctx.db.transaction().execute(write);
  else await write(ctx.db);
  if (sidecarRecency) {
    await writeSidecarRecency(ctx, meta.id, suppliedRecency(previousRecency, times.recencyAtMs));
  }
  return { updatedAtMs: times.updatedAtMs, recencyAtMs: times.recencyAtMs };
}

/** How an upsert treats an existing row beyond the rules every upsert follows. */
export interface ConflictRules {
  /** The new row's recency was supplied: it moves the stored one forward. */
  recencySupplied: boolean;
  /** The new row's `memory_mode` overwrites the stored one (the backfill's rollout mode). */
  memoryMode?: boolean;
}

/**
 * The `on conflict (id)` clause of a thread upsert (spec §5.4), shared by `upsertThread` and
 * the backfill's batch statement: the update `updateOnConflict` describes, and none at all for
 * a row it would leave as it is (re-deriving an unchanged file, every hit of a default search
 * again at each keystroke, wrote its page to the WAL, and the checkpoints after, for nothing).
 */
export function conflictUpdate(
  // biome-ignore lint/suspicious/noExplicitAny: the builder of an `on conflict` clause.
  oc: OnConflictBuilder<any, any>,
  dialect: StateContext['dialect'],
  columns: ReadonlySet<string>,
  rules: ConflictRules,
) {
  // SQLite's null-safe equality; PostgreSQL spells it out.
  const same = dialect === 'sqlite' ? 'is' : 'is not distinct from';
  // One set of expressions serves the update and the test of whether it changes anything.
  // biome-ignore lint/suspicious/noExplicitAny: the clause's tables are `threads` and `excluded`.
  const eb = expressionBuilder<any, any>();
  const set = updateOnConflict(eb, columns, rules);
  const unchanged = Object.entries(set).map(([column, value]) =>
    eb(eb.ref(`threads.${column}`), same, value),
  );
  return oc
    .column('id')
    .doUpdateSet(set as never)
    .where(eb.not(eb.and(unchanged)) as never);
}

/**
 * What an upsert's conflict sets on an existing row (spec §5.4): the plain columns from the
 * new row, `preview` never cleared, existing non-null git fields and `originator` kept, the new
 * non-null values of the others, `history_mode` never back from `paginated`, and a supplied
 * recency only forward.
 */
function updateOnConflict(
  // biome-ignore lint/suspicious/noExplicitAny: the builder of an `on conflict` clause.
  eb: ExpressionBuilder<any, any>,
  columns: ReadonlySet<string>,
  { recencySupplied, memoryMode = false }: ConflictRules,
): Record<string, Expression<unknown>> {
  const ref = (name: string) => eb.ref(name);
  const set: Record<string, Expression<unknown>> = {};
  for (const column of PLAIN_UPDATE_COLUMNS) {
    if (columns.has(column)) set[column] = ref(`excluded.${column}`);
  }
  if (memoryMode && columns.has('memory_mode')) set.memory_mode = ref('excluded.memory_mode');
  set.preview = eb.fn.coalesce(
    eb.fn('nullif', [ref('excluded.preview'), eb.val('')]),
    ref('threads.preview'),
  );
  for (const column of EXISTING_WINS_COLUMNS) {
    if (columns.has(column))
      set[column] = eb.fn.coalesce(ref(`threads.${column}`), ref(`excluded.${column}`));
  }
  for (const column of NEW_WINS_COLUMNS) {
    if (columns.has(column))
      set[column] = eb.fn.coalesce(ref(`excluded.${column}`), ref(`threads.${column}`));
  }
  if (columns.has('history_mode')) {
    set.history_mode = sql`case when threads.history_mode = 'paginated'
      then 'paginated' else excluded.history_mode end`;
  }
  if (columns.has('recency_at_ms') && recencySupplied) {
    const later = sql`case when excluded.recency_at_ms > threads.recency_at_ms + 1
      then excluded.recency_at_ms else threads.recency_at_ms + 1 end`;
    set.recency_at_ms = later;
    if (columns.has('recency_at')) set.recency_at = sql`cast((${later}) / 1000 as bigint)`;
  }
  return set;
}

/** Inserts the row only if no row has this id; returns whether it inserted. */
export async function insertThreadIfAbsent(
  ctx: StateContext,
  meta: ThreadMetadata,
): Promise<boolean> {
  assertWritable(ctx);
  const times = allocateThreadTimes(ctx, meta);
  const row = metadataToRow(meta, times.updatedAtMs, times.recencyAtMs, ctx.profile);
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

/** `setThreadArchived`'s change: archived or not, where the rollout now lives, and when. */
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
  assertWritable(ctx);
  const archivedAtMs = params.archived ? Math.trunc(params.archivedAtMs ?? Date.now()) : null;
  const set: Record<string, unknown> = { archived: params.archived ? 1 : 0 };
  if (ctx.profile.layout === 'codex') {
    set.archived_at = archivedAtMs === null ? null : secondsOf(archivedAtMs);
  } else {
    set.archived_at_ms = archivedAtMs;
  }
  if (params.rolloutPath !== undefined) set.rollout_path = params.rolloutPath;
  if (params.updatedAtMs !== undefined) Object.assign(set, updatedColumns(ctx, params.updatedAtMs));
  return updateThreadColumns(ctx, id, set);
}

/**
 * Sets columns of one thread's row (values or SQL expressions); whether the row exists. On
 * SQLite a few plain values take the prepared-statement path (`SqliteThreadRowUpdates`).
 */
export async function updateThreadColumns(
  ctx: StateContext,
  id: string,
  set: Record<string, unknown>,
): Promise<boolean> {
  const updated = ctx.rowUpdates?.update(id, set);
  if (updated !== undefined) return updated;
  const result = await ctx.db
    .updateTable('threads')
    .set(set as never)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** `updated_at_ms` (allocated) and, in a Codex DB, its seconds column. */
export function updatedColumns(ctx: StateContext, atMs: number): Record<string, number> {
  const updatedAtMs = ctx.updatedClock.allocate(atMs);
  return ctx.profile.layout === 'codex'
    ? { updated_at_ms: updatedAtMs, updated_at: secondsOf(updatedAtMs) }
    : { updated_at_ms: updatedAtMs };
}

/** Moves `updated_at` to an allocated time; returns whether the row exists (spec §5.7). */
export async function touchThreadUpdatedAt(
  ctx: StateContext,
  id: string,
  atMs: number,
): Promise<boolean> {
  assertWritable(ctx);
  return updateThreadColumns(ctx, id, updatedColumns(ctx, atMs));
}

/**
 * Deletes a thread's rows (spec codex-db-effects §2.10): dynamic tools, spawn edges in either
 * direction, its read receipt, then the thread row, in one transaction. Returns whether a
 * thread row went.
 */
export async function deleteThread(ctx: StateContext, id: string): Promise<boolean> {
  assertWritable(ctx);
  const tables = ctx.profile.tables;
  return ctx.db.transaction().execute(async (trx) => {
    if (tables.has('thread_dynamic_tools'))
      await trx.deleteFrom('thread_dynamic_tools').where('thread_id', '=', id).execute();
    await trx
      .deleteFrom('thread_spawn_edges')
      .where((eb) => eb.or([eb('parent_thread_id', '=', id), eb('child_thread_id', '=', id)]))
      .execute();
    if (tables.has('thread_read_receipts'))
      await trx.deleteFrom('thread_read_receipts').where('thread_id', '=', id).execute();
    else if (ctx.sidecar?.readReceipts)
      await trx
        .withSchema(SIDECAR_SCHEMA)
        .deleteFrom('thread_read_receipts')
        .where('thread_id', '=', id)
        .execute();
    const result = await trx.deleteFrom('threads').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}

/**
 * Gives a fork by reference its base's preview (spec codex-db-effects §2.9: a 0.169 fork's row
 * shows the source preview; its own title and first message stay its own). No-op (false) when
 * the base has no preview or the fork already shows it.
 */
export async function inheritFirstUserMessage(
  ctx: StateContext,
  forkId: string,
  baseId: string,
): Promise<boolean> {
  assertWritable(ctx);
  const base = await ctx.db
    .selectFrom('threads')
    .select(['preview'])
    .where('id', '=', baseId)
    .executeTakeFirst();
  if (!base || base.preview === '') return false;
  const result = await ctx.db
    .updateTable('threads')
    .set({ preview: base.preview })
    .where('id', '=', forkId)
    .where('preview', '<>', base.preview)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Hides a thread whose rollout can no longer be read (emptied, or its first line is not a
 * valid session_meta) from lists, the way lists hide a never-messaged thread: its preview is
 * cleared and nothing else. The row, its name and its DB-only facts stay, so nothing is lost
 * if the file comes back; a reindex of a readable file gives the preview back (an upsert never
 * clears one). Only a row that still points at `rolloutPath` is touched. Returns whether a row
 * changed.
 */
export async function hideUnreadableThread(
  ctx: StateContext,
  id: string,
  rolloutPath: string,
): Promise<boolean> {
  assertWritable(ctx);
  const result = await ctx.db
    .updateTable('threads')
    .set({ preview: '' })
    .where('id', '=', id)
    .where('rollout_path', '=', rolloutPath)
    .where('preview', '<>', '')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
