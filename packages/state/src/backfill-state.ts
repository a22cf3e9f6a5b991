import type { Kysely } from 'kysely';
import type { StateContext } from './context.js';
import type { LeaseOwner } from './lease-owner.js';
import { claimLease, type LeaseClaim, readLease, releaseLease } from './leases.js';
import type { BackfillStatus } from './schema.js';
import type { SidecarDatabase } from './sidecar.js';

/**
 * The one-time rollout import's state (spec rollout-state §5.8), kept where Codex keeps it:
 * the `backfill_state` singleton of its own DB (`status`, `last_watermark`, times in seconds).
 * Skein takes part in Codex's lease — a `running` row whose `updated_at` is under 900 s old
 * belongs to whoever wrote it, Codex or Skein — so a Skein and a Codex process starting
 * together import the home once. Skein's sidecar adds what Codex's row cannot say: which Skein
 * process holds it (a dead one is replaced at once) and how many files the run did.
 */
export interface BackfillHost {
  readonly ctx: StateContext;
  readonly sidecar: Kysely<SidecarDatabase>;
}

/**
 * Codex's `backfill_state` row as read: whether the home's rollouts have been imported (`pending`,
 * `running`, `complete`), the last file imported (watermark), and when.
 */
export interface BackfillState {
  status: BackfillStatus;
  lastWatermark: string | null;
  lastSuccessAtMs: number | null;
  updatedAtMs: number;
  /** The Skein process holding the import, if a Skein process holds it. */
  owner: { host: string; pid: number; startToken: string } | null;
  filesDone: number;
  filesFailed: number;
}

/** Codex's lease on a `running` import (seconds). */
export const CODEX_BACKFILL_LEASE_SECONDS = 900;
/** The name of Skein's side of the lease in the sidecar. */
export const BACKFILL_LEASE = 'backfill';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Inserts the singleton row as `pending` if missing (as Codex does at startup). */
export async function ensureBackfillState(ctx: StateContext, nowMs = Date.now()): Promise<void> {
  // Looked for first: an insert takes the DB's write lock even when it inserts nothing, and
  // every open would wait out a writer (Codex's, mid-transaction) for a row that is there.
  const present = await ctx.db
    .selectFrom('backfill_state')
    .select('id')
    .where('id', '=', 1)
    .executeTakeFirst();
  if (present !== undefined) return;
  await ctx.db
    .insertInto('backfill_state')
    .values({
      id: 1,
      status: 'pending',
      last_watermark: null,
      last_success_at: null,
      updated_at: seconds(nowMs),
    } as never)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Reads the backfill row (a DB without one reads as `pending`). */
export async function readBackfillState(host: BackfillHost): Promise<BackfillState> {
  const row = await host.ctx.db
    .selectFrom('backfill_state')
    .select(['status', 'last_watermark', 'last_success_at', 'updated_at'])
    .where('id', '=', 1)
    .executeTakeFirst();
  const progress = await host.sidecar
    .selectFrom('backfill_progress')
    .selectAll()
    .where('id', '=', 1)
    .executeTakeFirst();
  const status: BackfillStatus =
    row?.status === 'complete' || row?.status === 'running' ? row.status : 'pending';
  const lease = status === 'running' ? await readLease({ db: host.sidecar }, BACKFILL_LEASE) : null;
  return {
    status,
    lastWatermark: row?.last_watermark ?? null,
    lastSuccessAtMs: row?.last_success_at == null ? null : Number(row.last_success_at) * 1000,
    updatedAtMs: row ? Number(row.updated_at) * 1000 : 0,
    owner: lease
      ? { host: lease.owner.host, pid: lease.owner.pid, startToken: lease.owner.startToken }
      : null,
    filesDone: Number(progress?.files_done ?? 0),
    filesFailed: Number(progress?.files_failed ?? 0),
  };
}

/**
 * The outcome of `claimBackfill`: the caller runs the import, or who else holds it (another live
 * Skein, Codex's own row, or nobody because it is complete).
 */
export type BackfillClaim =
  | { claimed: true }
  /** `skein`: another live Skein process runs it; `codex`: Codex's row is held by someone else. */
  | { claimed: false; heldBy: 'skein' | 'codex' | 'complete' };

/**
 * Claims the import: first Skein's side (the sidecar lease; a dead Skein holder is replaced at
 * once), then Codex's row, by Codex's rule — not `complete`, and not `running` with a lease
 * under 900 s old — or, when the sidecar says a dead Skein process held it and nobody has
 * written the row since, by taking that exact row over.
 */
export async function claimBackfill(
  host: BackfillHost,
  owner: LeaseOwner,
  leaseMs: number,
  nowMs = Date.now(),
): Promise<BackfillClaim> {
  const sidecarClaim: LeaseClaim = await claimLease(
    { db: host.sidecar },
    { name: BACKFILL_LEASE, owner, durationMs: leaseMs, nowMs },
  );
  if (!sidecarClaim.claimed) return { claimed: false, heldBy: 'skein' };
  const now = seconds(nowMs);
  const db = host.ctx.db;
  const claimed = await db
    .updateTable('backfill_state')
    .set({ status: 'running', updated_at: now } as never)
    .where('id', '=', 1)
    .where('status', '<>', 'complete')
    .where((eb) =>
      eb.or([
        eb('status', '<>', 'running'),
        eb('updated_at', '<=', now - CODEX_BACKFILL_LEASE_SECONDS),
      ]),
    )
    .executeTakeFirst();
  let ok = Number(claimed.numUpdatedRows) > 0;
  const predecessorNote = sidecarClaim.stolenFrom ? await noteOf(host, sidecarClaim) : null;
  if (!ok && predecessorNote !== null) {
    // The dead Skein holder's last heartbeat is still the row's: nobody else holds it.
    const takeover = await db
      .updateTable('backfill_state')
      .set({ status: 'running', updated_at: now } as never)
      .where('id', '=', 1)
      .where('status', '=', 'running')
      .where('updated_at', '=', Number(predecessorNote))
      .executeTakeFirst();
    ok = Number(takeover.numUpdatedRows) > 0;
  }
  if (!ok) {
    await releaseLease({ db: host.sidecar }, BACKFILL_LEASE, owner.id);
    const row = await db
      .selectFrom('backfill_state')
      .select('status')
      .where('id', '=', 1)
      .executeTakeFirst();
    return { claimed: false, heldBy: row?.status === 'complete' ? 'complete' : 'codex' };
  }
  await host.sidecar
    .updateTable('leases')
    .set({ note: String(now) })
    .where('name', '=', BACKFILL_LEASE)
    .where('owner_id', '=', owner.id)
    .execute();
  // A fresh import counts from zero; one resumed after a crash goes on counting.
  const fresh = await db
    .selectFrom('backfill_state')
    .select('last_watermark')
    .where('id', '=', 1)
    .executeTakeFirst();
  const restart = fresh?.last_watermark == null;
  await host.sidecar
    .insertInto('backfill_progress')
    .values({ id: 1, files_done: 0, files_failed: 0, updated_at_ms: nowMs })
    .onConflict((oc) =>
      restart
        ? oc.column('id').doUpdateSet({ files_done: 0, files_failed: 0, updated_at_ms: nowMs })
        : oc.column('id').doNothing(),
    )
    .execute();
  return { claimed: true };
}

async function noteOf(host: BackfillHost, claim: LeaseClaim): Promise<string | null> {
  if (!claim.claimed || claim.stolenFrom === null) return null;
  // The row was overwritten by our claim; the note column kept the predecessor's value.
  const row = await host.sidecar
    .selectFrom('leases')
    .select('note')
    .where('name', '=', BACKFILL_LEASE)
    .executeTakeFirst();
  return row?.note ?? null;
}

/** Records progress in Codex's row: everything up to `watermark` (inclusive) is indexed. */
export async function checkpointBackfill(
  ctx: StateContext,
  watermark: string,
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('backfill_state')
    .set({ last_watermark: watermark, updated_at: seconds(nowMs) } as never)
    .where('id', '=', 1)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Marks the import complete (status, watermark, time) and releases Skein's side of the lease, if
 * `ownerId` still holds it.
 */
export async function markBackfillComplete(
  host: BackfillHost,
  ownerId: string,
  watermark: string | null,
  nowMs = Date.now(),
): Promise<void> {
  await host.ctx.db
    .updateTable('backfill_state')
    .set(
      (eb) =>
        ({
          status: 'complete',
          last_watermark: watermark ?? eb.ref('last_watermark'),
          last_success_at: seconds(nowMs),
          updated_at: seconds(nowMs),
        }) as never,
    )
    .where('id', '=', 1)
    .execute();
  await releaseLease({ db: host.sidecar }, BACKFILL_LEASE, ownerId);
}

/** Gives the import back (a failed run): Codex's row to `pending`, Skein's lease released. */
export async function abandonBackfill(
  host: BackfillHost,
  ownerId: string,
  nowMs = Date.now(),
): Promise<void> {
  await host.ctx.db
    .updateTable('backfill_state')
    .set({ status: 'pending', updated_at: seconds(nowMs) } as never)
    .where('id', '=', 1)
    .where('status', '=', 'running')
    .execute();
  await releaseLease({ db: host.sidecar }, BACKFILL_LEASE, ownerId);
}

/** Sends the import back to `pending` from the start (e.g. `skein backfill --force`). */
export async function resetBackfill(host: BackfillHost, nowMs = Date.now()): Promise<void> {
  await ensureBackfillState(host.ctx, nowMs);
  await host.ctx.db
    .updateTable('backfill_state')
    .set({ status: 'pending', last_watermark: null, updated_at: seconds(nowMs) } as never)
    .where('id', '=', 1)
    .execute();
  await host.sidecar.deleteFrom('backfill_progress').execute();
}
