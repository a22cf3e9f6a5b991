/**
 * The live writer's operations: append items, persist, flush, shut down, discard, and the
 * soft step pointing an existing row at the writer's file.
 *
 * Crash safety: appended lines are written before SQLite is (never fsynced until a flush), so
 * a crash leaves the JSONL at or ahead of the row; the row's path sync is best effort and is
 * redone by the next flush or by read-repair.
 */
import { RolloutError, type RolloutRecorder } from '@skein/rollout';
import { getThread, upsertThread } from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import { persistedRolloutItems } from '../items.js';
import type { AppendThreadItemsParams, ThreadId } from '../types.js';
import { messageOf } from './rollout-scope.js';
import type { LiveWriterEntry, LocalStoreHost } from './store-host.js';

/** The thread's live writer entry; `threadNotFound` when it has none. */
function writerEntryFor(host: LocalStoreHost, threadId: ThreadId): LiveWriterEntry {
  const entry = host.writers.get(threadId);
  if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
  return entry;
}

function writerError(threadId: ThreadId, error: unknown): ThreadStoreError {
  if (error instanceof ThreadStoreError) return error;
  if (error instanceof RolloutError && error.code === 'RecorderClosed') {
    return ThreadStoreError.threadNotFound(threadId);
  }
  return ThreadStoreError.internal(messageOf(error), error);
}

/** History only: the policy filters, the writer writes; no metadata is derived here. */
export async function appendLocalItems(
  host: LocalStoreHost,
  params: AppendThreadItemsParams,
): Promise<void> {
  const entry = host.writers.get(params.threadId);
  const canonical = persistedRolloutItems(params.items, entry?.historyMode ?? 'legacy');
  if (canonical.length === 0) return;
  if (entry === undefined) throw ThreadStoreError.threadNotFound(params.threadId);
  const writer = entry.writer;
  try {
    writer.record(canonical);
    // Written before returning (not fsynced; flush does that), so SQLite, written after us,
    // never gets ahead of the JSONL.
    await writer.writeBuffered();
  } catch (error) {
    throw writerError(params.threadId, error);
  }
}

export async function persistLocalThread(host: LocalStoreHost, threadId: ThreadId): Promise<void> {
  const writer = writerEntryFor(host, threadId).writer;
  try {
    await writer.persist();
  } catch (error) {
    throw writerError(threadId, error);
  }
  await syncMaterializedRolloutPath(host, threadId, writer);
}

export async function flushLocalThread(host: LocalStoreHost, threadId: ThreadId): Promise<void> {
  const entry = writerEntryFor(host, threadId);
  const writer = entry.writer;
  try {
    await writer.flush();
  } catch (error) {
    throw writerError(threadId, error);
  }
  // The common case (a flush per turn): the row already names the file, nothing to look up.
  if (host.writers.get(threadId) === entry && entry.rowPathSynced === true) return;
  await syncMaterializedRolloutPath(host, threadId, writer);
}

/**
 * Soft: points an existing row at the writer's file when they differ. Once the row names the
 * file, later flushes of the same writer skip the lookup (a flush per turn stays one fsync).
 */
async function syncMaterializedRolloutPath(
  host: LocalStoreHost,
  threadId: ThreadId,
  writer: RolloutRecorder,
): Promise<void> {
  const db = host.stateDb;
  if (db === undefined || !writer.materialized) return;
  const entry = host.writers.get(threadId);
  if (entry?.writer === writer && entry.rowPathSynced === true) return;
  try {
    const row = await getThread(db.ctx, threadId);
    if (row !== undefined && row.rolloutPath !== writer.path) {
      await upsertThread(db.ctx, { ...row, rolloutPath: writer.path, recencyAtMs: 0 });
    }
    // No row yet: the rows this store writes name the writer's file (see below).
    if (entry?.writer === writer) entry.rowPathSynced = true;
  } catch (error) {
    host.warn(`failed to sync rollout path for thread ${threadId}: ${messageOf(error)}`);
  }
}

export async function shutdownLocalThread(host: LocalStoreHost, threadId: ThreadId): Promise<void> {
  const entry = host.writers.get(threadId);
  if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
  try {
    await entry.writer.shutdown();
  } catch (error) {
    throw ThreadStoreError.internal(
      `shutdown cleanup task failed for thread ${threadId}: ${messageOf(error)}`,
      error,
    );
  }
  await syncMaterializedRolloutPath(host, threadId, entry.writer);
  if (host.writers.get(threadId) === entry) host.writers.delete(threadId);
  await entry.lock?.release();
}

export async function discardLocalThread(host: LocalStoreHost, threadId: ThreadId): Promise<void> {
  const entry = host.writers.get(threadId);
  if (entry === undefined) return;
  try {
    await entry.writer.discard();
  } catch (error) {
    throw ThreadStoreError.internal(
      `discard cleanup task failed for thread ${threadId}: ${messageOf(error)}`,
      error,
    );
  } finally {
    if (host.writers.get(threadId) === entry) host.writers.delete(threadId);
    await entry.lock?.release();
  }
}
