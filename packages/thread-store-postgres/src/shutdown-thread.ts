/**
 * `PostgresThreadStore.shutdownThread` and `discardThread`: close a live writer and release its
 * lease. Shutdown first writes a created thread that had appends (see materialize-thread.ts);
 * discard refuses further appends at once and writes nothing.
 *
 * Crash safety: shutdown's write is one transaction and the release a single statement after
 * it. A crash between them leaves the thread written and the lease held until it expires
 * (`writerLeaseMs`), after which another writer may resume the thread.
 */
import type { ThreadId } from '@skein/thread-store';
import { enqueue, releaseWriter } from './live-writer.js';
import { materializeWriter } from './materialize-thread.js';
import type { PgStoreHost } from './store-host.js';

/** Writes what the writer holds (if it appended anything) and closes it. */
export async function shutdownPgThread(host: PgStoreHost, threadId: ThreadId): Promise<void> {
  const writer = host.writers.get(threadId);
  if (!writer) return;
  await enqueue(writer, async () => {
    if (!writer.materialized && writer.hasAppends && !writer.closed) {
      await materializeWriter(host, writer);
    }
    await releaseWriter(host, writer);
  });
}

/** Closes the writer without writing what it holds. */
export async function discardPgThread(host: PgStoreHost, threadId: ThreadId): Promise<void> {
  const writer = host.writers.get(threadId);
  if (!writer) return;
  // Refuse further appends at once, then release after whatever is in flight.
  writer.closed = true;
  host.writers.delete(threadId);
  await enqueue(writer, () => releaseWriter(host, writer)).catch(() => {});
}
