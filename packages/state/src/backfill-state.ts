import type { StateContext } from './context.js';
import type { LeaseOwner } from './lease-owner.js';
import type { BackfillStatus } from './schema.js';

/** Progress of the one-time rollout import (spec rollout-state §5.8). */
export interface BackfillState {
  status: BackfillStatus;
  lastWatermark: string | null;
  lastSuccessAtMs: number | null;
  updatedAtMs: number;
  owner: { host: string; pid: number; startToken: string } | null;
  filesDone: number;
  filesFailed: number;
}

/** The lease name the backfill worker holds while it runs. */
export const BACKFILL_LEASE = 'backfill';

/** Inserts the singleton row as `pending` if missing. */
export async function ensureBackfillState(
  ctx: StateContext,
  nowMs: number = Date.now(),
): Promise<void> {
  await ctx.db
    .insertInto('backfill_state')
    .values({
      id: 1,
      status: 'pending',
      last_watermark: null,
      last_success_at_ms: null,
      updated_at_ms: nowMs,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function readBackfillState(ctx: StateContext): Promise<BackfillState> {
  const row = await ctx.db
    .selectFrom('backfill_state')
    .selectAll()
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!row) {
    return {
      status: 'pending',
      lastWatermark: null,
      lastSuccessAtMs: null,
      updatedAtMs: 0,
      owner: null,
      filesDone: 0,
      filesFailed: 0,
    };
  }
  const status: BackfillStatus =
    row.status === 'complete' || row.status === 'running' ? row.status : 'pending';
  return {
    status,
    lastWatermark: row.last_watermark,
    lastSuccessAtMs: row.last_success_at_ms === null ? null : Number(row.last_success_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    owner:
      row.owner_host !== null && row.owner_pid !== null
        ? {
            host: row.owner_host,
            pid: Number(row.owner_pid),
            startToken: row.owner_start_token ?? '',
          }
        : null,
    filesDone: Number(row.files_done),
    filesFailed: Number(row.files_failed),
  };
}

/** Marks the run started by `owner` (who must hold `BACKFILL_LEASE`). Never reopens `complete`. */
export async function markBackfillRunning(
  ctx: StateContext,
  owner: LeaseOwner,
  nowMs = Date.now(),
): Promise<boolean> {
  await ensureBackfillState(ctx, nowMs);
  const result = await ctx.db
    .updateTable('backfill_state')
    .set({
      status: 'running',
      updated_at_ms: nowMs,
      owner_host: owner.host,
      owner_pid: owner.pid,
      owner_start_token: owner.startToken,
    })
    .where('id', '=', 1)
    .where('status', '<>', 'complete')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Records progress: everything up to `watermark` (inclusive) is indexed. */
export async function checkpointBackfill(
  ctx: StateContext,
  watermark: string,
  counts: { done: number; failed: number },
  nowMs = Date.now(),
): Promise<void> {
  await ctx.db
    .updateTable('backfill_state')
    .set((eb) => ({
      last_watermark: watermark,
      updated_at_ms: nowMs,
      files_done: eb(eb.ref('files_done'), '+', counts.done),
      files_failed: eb(eb.ref('files_failed'), '+', counts.failed),
    }))
    .where('id', '=', 1)
    .execute();
}

export async function markBackfillComplete(
  ctx: StateContext,
  watermark: string | null,
  nowMs = Date.now(),
): Promise<void> {
  await ctx.db
    .updateTable('backfill_state')
    .set((eb) => ({
      status: 'complete',
      last_watermark: watermark ?? eb.ref('last_watermark'),
      last_success_at_ms: nowMs,
      updated_at_ms: nowMs,
      owner_host: null,
      owner_pid: null,
      owner_start_token: null,
    }))
    .where('id', '=', 1)
    .execute();
}

/** Sends the import back to `pending` from the start (e.g. `skein backfill --force`). */
export async function resetBackfill(ctx: StateContext, nowMs = Date.now()): Promise<void> {
  await ensureBackfillState(ctx, nowMs);
  await ctx.db
    .updateTable('backfill_state')
    .set({
      status: 'pending',
      last_watermark: null,
      updated_at_ms: nowMs,
      files_done: 0,
      files_failed: 0,
    })
    .where('id', '=', 1)
    .execute();
}
