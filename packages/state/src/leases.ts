import type { Kysely, Selectable } from 'kysely';
import { isLeaseOwnerDead, type LeaseOwner } from './lease-owner.js';
import type { LeasesTable } from './schema.js';

/**
 * Where a `leases` table lives: Skein's schema on PostgreSQL (`StateContext`), or Skein's
 * sidecar file beside a Codex DB (`StateRuntime.leases`).
 */
export interface LeaseHost {
  // biome-ignore lint/suspicious/noExplicitAny: both DB types carry a compatible `leases` table.
  readonly db: Kysely<any>;
}

type LeaseDb = Kysely<{ leases: LeasesTable }>;
const leasesOf = (host: LeaseHost): LeaseDb => host.db as LeaseDb;

/**
 * A held lease: its name, holder (process and instance), and when it was taken and last renewed.
 */
export interface LeaseRecord {
  name: string;
  owner: LeaseOwner;
  acquiredAtMs: number;
  heartbeatAtMs: number;
  expiresAtMs: number;
}

/**
 * The outcome of `claimLease`: taken (possibly from a dead or expired holder) or held by someone
 * else.
 */
export type LeaseClaim =
  | { claimed: true; lease: LeaseRecord; stolenFrom: LeaseRecord | null }
  | { claimed: false; holder: LeaseRecord };

/**
 * What `claimLease` takes: the lease's name, the claiming owner, and how long the lease lasts
 * without renewal.
 */
export interface ClaimLeaseParams {
  name: string;
  owner: LeaseOwner;
  durationMs: number;
  nowMs?: number;
  /** Judges a holder dead (default: `isLeaseOwnerDead`, which checks same-host pids). */
  isOwnerDead?: (owner: LeaseOwner) => boolean;
}

function toRecord(row: Selectable<LeasesTable>): LeaseRecord {
  return {
    name: row.name,
    owner: {
      id: row.owner_id,
      host: row.owner_host,
      pid: Number(row.owner_pid),
      startToken: row.owner_start_token,
    },
    acquiredAtMs: Number(row.acquired_at_ms),
    heartbeatAtMs: Number(row.heartbeat_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
  };
}

/** The current holder of a lease, if any (expired or not). */
export async function readLease(ctx: LeaseHost, name: string): Promise<LeaseRecord | undefined> {
  const row = await leasesOf(ctx)
    .selectFrom('leases')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/**
 * Claims a named lease for `durationMs`. Succeeds when it is free, already ours, expired, or
 * held by a process proven dead (same host). Stealing is a compare-and-set on the holder's
 * id and heartbeat, so two claimants racing for a stale lease cannot both win.
 */
export async function claimLease(ctx: LeaseHost, params: ClaimLeaseParams): Promise<LeaseClaim> {
  const now = params.nowMs ?? Date.now();
  const { owner } = params;
  const fresh = {
    name: params.name,
    owner_id: owner.id,
    owner_host: owner.host,
    owner_pid: owner.pid,
    owner_start_token: owner.startToken,
    acquired_at_ms: now,
    heartbeat_at_ms: now,
    expires_at_ms: now + params.durationMs,
  };
  const inserted = await leasesOf(ctx)
    .insertInto('leases')
    .values(fresh)
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
    return { claimed: true, lease: toRecord(fresh), stolenFrom: null };
  }
  const holder = await readLease(ctx, params.name);
  if (!holder) return claimLease(ctx, { ...params, nowMs: now }); // released in between
  const isDead = params.isOwnerDead ?? isLeaseOwnerDead;
  const ours = holder.owner.id === owner.id;
  if (!ours && holder.expiresAtMs > now && !isDead(holder.owner)) return { claimed: false, holder };
  const updated = await leasesOf(ctx)
    .updateTable('leases')
    .set(ours ? { heartbeat_at_ms: now, expires_at_ms: now + params.durationMs } : fresh)
    .where('name', '=', params.name)
    .where('owner_id', '=', holder.owner.id)
    .where('heartbeat_at_ms', '=', holder.heartbeatAtMs)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    const current = await readLease(ctx, params.name);
    if (!current) return claimLease(ctx, { ...params, nowMs: now });
    return { claimed: false, holder: current };
  }
  const lease = ours
    ? { ...holder, heartbeatAtMs: now, expiresAtMs: now + params.durationMs }
    : toRecord(fresh);
  return { claimed: true, lease, stolenFrom: ours ? null : holder };
}

/** Extends a held lease; false if it is no longer ours (stolen after expiry). */
export async function heartbeatLease(
  ctx: LeaseHost,
  name: string,
  ownerId: string,
  durationMs: number,
  nowMs: number = Date.now(),
): Promise<boolean> {
  const result = await leasesOf(ctx)
    .updateTable('leases')
    .set({ heartbeat_at_ms: nowMs, expires_at_ms: nowMs + durationMs })
    .where('name', '=', name)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives a lease up; false if it was not ours. */
export async function releaseLease(
  ctx: LeaseHost,
  name: string,
  ownerId: string,
): Promise<boolean> {
  const result = await leasesOf(ctx)
    .deleteFrom('leases')
    .where('name', '=', name)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
