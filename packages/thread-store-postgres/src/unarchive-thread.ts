/**
 * `PostgresThreadStore.unarchiveThread`: clear the thread's archived flag and time, then read
 * the thread back.
 *
 * Crash safety: one UPDATE statement (its own transaction) then a read: a crash leaves the
 * thread unarchived or not, never half.
 */
import { type ArchiveThreadParams, type StoredThread, ThreadStoreError } from '@skein/thread-store';
import { readPgThread } from './read-thread.js';
import { type PgStoreHost, runPg } from './store-host.js';

/** Marks a thread active again and returns it (see this file's header). */
export async function unarchivePgThread(
  host: PgStoreHost,
  params: ArchiveThreadParams,
): Promise<StoredThread> {
  const { threadId } = params;
  const updated = await runPg(() =>
    host.db
      .updateTable('threads')
      .set({ archived: 0, archived_at_ms: null })
      .where('id', '=', threadId)
      .executeTakeFirst(),
  );
  if (Number(updated.numUpdatedRows) === 0) throw ThreadStoreError.threadNotFound(threadId);
  return readPgThread(host, { threadId, includeArchived: true });
}
