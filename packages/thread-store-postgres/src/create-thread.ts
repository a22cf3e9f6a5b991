/**
 * `PostgresThreadStore.createThread`: refuse a thread id that exists, claim the thread's writer
 * lease, and open a writer whose first item is the session meta. Nothing else is written yet:
 * the thread's rows appear when it is materialized (persist, a flush after appends, shutdown,
 * or a metadata patch; see materialize-thread.ts).
 *
 * Crash safety: the lease is the only row written. A crash after claiming it leaves no thread
 * and a lease that expires after `writerLeaseMs`; the items a writer held in memory are lost,
 * as an unflushed rollout buffer is.
 */
import {
  type CreateThreadParams,
  type RolloutItem,
  rejectPaginatedHistoryMode,
  SKEIN_CLI_VERSION,
  sessionMetaForCreate,
  ThreadStoreError,
} from '@skein/thread-store';
import { claimWriterLease, whileOpening } from './live-writer.js';
import { type PgStoreHost, runPg } from './store-host.js';

/** Opens a writer for a new thread (see this file's header). */
export async function createPgThread(host: PgStoreHost, params: CreateThreadParams): Promise<void> {
  rejectPaginatedHistoryMode(params.historyMode);
  await whileOpening(host, params.threadId, () => openForCreate(host, params));
}

async function openForCreate(host: PgStoreHost, params: CreateThreadParams): Promise<void> {
  const threadId = params.threadId;
  const existing = await runPg(() =>
    host.db.selectFrom('threads').select('id').where('id', '=', threadId).executeTakeFirst(),
  );
  if (existing) throw ThreadStoreError.conflict(`thread ${threadId} already exists`);
  await claimWriterLease(host, threadId);
  const createdAtMs = Math.trunc(params.createdAtMs ?? Date.now());
  host.writers.set(threadId, {
    threadId,
    sessionId: params.sessionId ?? threadId,
    materialized: false,
    pending: [{ item: sessionMetaItem(params, createdAtMs), atMs: createdAtMs }],
    hasAppends: false,
    closed: false,
    leaseLost: false,
    create: params,
    createdAtMs,
    metadata: params.metadata,
    tail: Promise.resolve(),
  });
}

/** The session meta that opens every history, as the rollout writer would record it. */
function sessionMetaItem(params: CreateThreadParams, createdAtMs: number): RolloutItem {
  const payload = sessionMetaForCreate(params, {
    timestamp: new Date(createdAtMs).toISOString(),
    cwd: params.metadata.cwd ?? '',
    cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
  });
  return { type: 'session_meta', payload };
}
