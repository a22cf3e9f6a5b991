/**
 * Read receipts (Codex 0.169's `thread_read_receipts`): read states, an update with its
 * expected revision, and a completed turn's receipt.
 *
 * Crash safety: each write is one statement in the DB's own transaction; a crash leaves the
 * receipt as it was before or after it.
 */
import {
  getThread,
  hasReadReceipts,
  initialReadState,
  publishTurnReadReceipt,
  readReadStates,
  StateError,
  updateReadState,
} from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import type { ThreadId, ThreadReadState, UpdateReadStateParams } from '../types.js';
import { readLocalThread } from './read-thread.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

/** Read states of the given threads; all `initial` where the DB keeps no receipts. */
export async function readLocalReadStates(
  host: LocalStoreHost,
  threadIds: readonly ThreadId[],
): Promise<Map<ThreadId, ThreadReadState>> {
  const db = host.stateDb;
  if (db === undefined) {
    return new Map(threadIds.map((id) => [id, initialReadState(id) as ThreadReadState]));
  }
  try {
    return (await readReadStates(db.ctx, threadIds)) as Map<ThreadId, ThreadReadState>;
  } catch (error) {
    throw ThreadStoreError.internal(`failed to read read states: ${messageOf(error)}`, error);
  }
}

export async function updateLocalReadState(
  host: LocalStoreHost,
  params: UpdateReadStateParams,
): Promise<ThreadReadState> {
  const db = host.stateDb;
  if (db === undefined || !hasReadReceipts(db.ctx) || db.readOnlyReason !== null) {
    throw ThreadStoreError.unsupported('read_receipts');
  }
  // The thread must exist (a receipt names a thread row).
  await readLocalThread(host, { threadId: params.threadId, includeArchived: true });
  try {
    return await updateReadState(
      db.ctx,
      params.threadId,
      params.operation,
      params.expectedRevision,
    );
  } catch (error) {
    if (error instanceof StateError && error.code === 'Conflict') {
      throw ThreadStoreError.conflict(error.message);
    }
    throw ThreadStoreError.internal(`failed to update read state: ${messageOf(error)}`, error);
  }
}

/**
 * A completed turn, published as 0.169 publishes it (only threads a user reads: no receipt for
 * sub-agents or threads with another thread source). Best effort: a receipt never fails the
 * turn that produced it.
 */
export async function publishLocalTurnCompleted(
  host: LocalStoreHost,
  threadId: ThreadId,
  turnId: string,
): Promise<void> {
  const db = host.stateDb;
  if (db === undefined || !hasReadReceipts(db.ctx) || db.readOnlyReason !== null) return;
  try {
    const row = await getThread(db.ctx, threadId);
    if (row === undefined) return;
    if (row.threadSource !== null && row.threadSource !== 'user') return;
    await publishTurnReadReceipt(db.ctx, threadId, turnId);
  } catch (error) {
    host.warn(`failed to publish the read receipt of ${threadId}: ${messageOf(error)}`);
  }
}
