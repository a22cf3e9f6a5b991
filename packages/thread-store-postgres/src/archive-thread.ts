/**
 * `PostgresThreadStore.archiveThread`: mark the thread's row archived, keeping the first
 * archive time when it already was.
 *
 * Crash safety: one UPDATE statement (its own transaction): the thread is archived or not.
 */
import { type ArchiveThreadParams, ThreadStoreError } from '@skein/thread-store';
import { type PgStoreHost, runPg } from './store-host.js';

/** Marks a thread archived (see this file's header). */
export async function archivePgThread(
  host: PgStoreHost,
  params: ArchiveThreadParams,
): Promise<void> {
  const { threadId } = params;
  const updated = await runPg(() =>
    host.db
      .updateTable('threads')
      .set((eb) => ({
        archived: 1,
        archived_at_ms: eb
          .case()
          .when('archived', '=', 1)
          .then(eb.ref('archived_at_ms'))
          .else(eb.val(Date.now()))
          .end(),
      }))
      .where('id', '=', threadId)
      .executeTakeFirst(),
  );
  if (Number(updated.numUpdatedRows) === 0) throw ThreadStoreError.threadNotFound(threadId);
}
