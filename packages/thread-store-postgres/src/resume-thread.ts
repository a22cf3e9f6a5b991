/**
 * `PostgresThreadStore.resumeThread`: find the thread's row (refusing an archived one unless
 * asked, and paginated-history threads), claim its writer lease, and open a writer that appends
 * after its existing history.
 *
 * Crash safety: the lease is the only row written; a crash after claiming it leaves the thread
 * as it was and a lease that expires after `writerLeaseMs`.
 */
import {
  type ResumeThreadParams,
  rejectPaginatedHistoryMode,
  ThreadStoreError,
} from '@skein/thread-store';
import { claimWriterLease, whileOpening } from './live-writer.js';
import { type PgStoreHost, readThreadMetadata, runPg } from './store-host.js';

/** Opens a writer on an existing thread (see this file's header). */
export async function resumePgThread(host: PgStoreHost, params: ResumeThreadParams): Promise<void> {
  if (params.rolloutPath != null) {
    throw ThreadStoreError.invalidRequest(
      'postgres thread store has no rollout files; resume by thread id',
    );
  }
  await whileOpening(host, params.threadId, () => openForResume(host, params));
}

async function openForResume(host: PgStoreHost, params: ResumeThreadParams): Promise<void> {
  const threadId = params.threadId;
  const row = await runPg(() => readThreadMetadata(host.db, threadId));
  if (!row) throw ThreadStoreError.threadNotFound(threadId);
  if (row.archived && params.includeArchived !== true) {
    throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
  }
  rejectPaginatedHistoryMode(row.historyMode);
  await claimWriterLease(host, threadId);
  const session = await runPg(() =>
    host.db
      .selectFrom('thread_store_threads')
      .select('session_id')
      .where('thread_id', '=', threadId)
      .executeTakeFirst(),
  );
  host.writers.set(threadId, {
    threadId,
    sessionId: session?.session_id ?? threadId,
    materialized: true,
    pending: [],
    hasAppends: false,
    closed: false,
    leaseLost: false,
    create: null,
    createdAtMs: row.createdAtMs,
    metadata: params.metadata,
    tail: Promise.resolve(),
  });
}
