/**
 * The lease of a live writer (create/resume) of a `PostgresThreadStore`; the writer's state is
 * `LiveWriter` in store-host.ts. A writer holds the lease `thread-writer:<id>` in the shared
 * `leases` table; a second writer to the same thread, in this or another process, is refused
 * (`Conflict`) until the first shuts down, discards, or its lease runs out (or it dies). Each
 * writer's operations run one after another on its queue so appends keep their order.
 *
 * Crash safety: the lease row is the only state written here. A process that dies holding it
 * leaves the row, which expires after `writerLeaseMs`; until then the thread refuses other
 * writers, after it the next claim takes it over.
 */
import { claimLease, heartbeatLease, releaseLease, type StateDatabase } from '@skein/state';
import { type ThreadId, ThreadStoreError } from '@skein/thread-store';
import type { Kysely } from 'kysely';
import { type LiveWriter, type PgStoreHost, type PgTx, runPg } from './store-host.js';

/** The lease name of a thread's writer. */
export const WRITER_LEASE_PREFIX = 'thread-writer:';

/** The error every operation of a writer that lost its lease gets. */
export function leaseLostError(threadId: string): ThreadStoreError {
  return ThreadStoreError.conflict(`thread ${threadId}: writer lease lost to another writer`);
}

/** Refuses a second writer to a thread this store already writes (or is opening). */
export function refuseDuplicateWriter(host: PgStoreHost, threadId: ThreadId): void {
  const existing = host.writers.get(threadId);
  if (existing?.closed) {
    host.writers.delete(threadId); // a writer that lost its lease: its slot is free again
  } else if (existing || host.opening.has(threadId)) {
    throw ThreadStoreError.invalidRequest(`thread ${threadId} already has a live writer`);
  }
}

/** Runs `open` with the thread marked as opening, so a concurrent create/resume is refused. */
export async function whileOpening(
  host: PgStoreHost,
  threadId: ThreadId,
  open: () => Promise<void>,
): Promise<void> {
  refuseDuplicateWriter(host, threadId);
  host.opening.add(threadId);
  try {
    await open();
  } finally {
    host.opening.delete(threadId);
  }
}

/** The thread's open writer, or `ThreadNotFound`. */
export function liveWriter(host: PgStoreHost, threadId: ThreadId): LiveWriter {
  const writer = host.writers.get(threadId);
  if (!writer) throw ThreadStoreError.threadNotFound(threadId);
  assertWriterOpen(writer);
  return writer;
}

/** Refuses operations on a closed writer or one that lost its lease. */
export function assertWriterOpen(writer: LiveWriter): void {
  if (writer.leaseLost) throw leaseLostError(writer.threadId);
  if (writer.closed) throw ThreadStoreError.threadNotFound(writer.threadId);
}

/** Our lease went to another writer: refuse everything from now on, keep the error stable. */
export function loseLease(writer: LiveWriter): never {
  writer.leaseLost = true;
  writer.closed = true;
  throw leaseLostError(writer.threadId);
}

/** Runs `op` after the writer's earlier operations (whether they failed or not). */
export function enqueue<T>(writer: LiveWriter, op: () => Promise<T>): Promise<T> {
  const result = writer.tail.then(op, op);
  writer.tail = result.catch(() => {});
  return result;
}

/** Claims the thread's writer lease, or `Conflict` naming the process that holds it. */
export async function claimWriterLease(host: PgStoreHost, threadId: ThreadId): Promise<void> {
  const claim = await runPg(() =>
    claimLease(host.ctx, {
      name: WRITER_LEASE_PREFIX + threadId,
      owner: host.owner,
      durationMs: host.leaseMs,
    }),
  );
  if (!claim.claimed) {
    const holder = claim.holder.owner;
    throw ThreadStoreError.conflict(
      `thread ${threadId} has a live writer in another process (${holder.host} pid ${holder.pid})`,
    );
  }
}

/** Runs `write` in a transaction that first renews (and so proves) this writer's lease. */
export async function inWriterTransaction(
  host: PgStoreHost,
  writer: LiveWriter,
  write: (trx: PgTx) => Promise<void>,
): Promise<void> {
  await runPg(() =>
    host.db.transaction().execute(async (trx) => {
      const held = await heartbeatLease(
        { ...host.ctx, db: trx as unknown as Kysely<StateDatabase> },
        WRITER_LEASE_PREFIX + writer.threadId,
        host.owner.id,
        host.leaseMs,
      );
      if (!held) loseLease(writer);
      await write(trx);
    }),
  );
}

/** Closes the writer and gives its lease back. */
export async function releaseWriter(host: PgStoreHost, writer: LiveWriter): Promise<void> {
  writer.closed = true;
  if (host.writers.get(writer.threadId) === writer) host.writers.delete(writer.threadId);
  await runPg(() => releaseLease(host.ctx, WRITER_LEASE_PREFIX + writer.threadId, host.owner.id));
}

/** The heartbeat: renews every open writer's lease, closing those another writer took over. */
export async function renewWriterLeases(host: PgStoreHost): Promise<void> {
  for (const writer of host.writers.values()) {
    if (writer.closed) continue;
    try {
      const held = await heartbeatLease(
        host.ctx,
        WRITER_LEASE_PREFIX + writer.threadId,
        host.owner.id,
        host.leaseMs,
      );
      if (!held) {
        writer.leaseLost = true;
        writer.closed = true;
      }
    } catch {
      // a transient DB error: the next beat or the next append decides
    }
  }
}
