/**
 * `PostgresThreadStore.deleteThread`: discard this store's writer of the thread (releasing its
 * lease), drop its cached history, then delete its items, its store row, its spawn edges in
 * either direction and its `threads` row. A thread only its writer knew (created, never
 * written) counts as deleted.
 *
 * Crash safety: the deletes are one transaction: a crash leaves the thread whole or gone. The
 * lease release before it is its own statement; a crash after it leaves the thread without a
 * writer, as after a shutdown.
 */
import { type DeleteThreadParams, ThreadStoreError } from '@skein/thread-store';
import { discardPgThread } from './shutdown-thread.js';
import { type PgStoreHost, runPg } from './store-host.js';

/** Deletes a thread and everything the store keeps for it (see this file's header). */
export async function deletePgThread(host: PgStoreHost, params: DeleteThreadParams): Promise<void> {
  const { threadId } = params;
  const writer = host.writers.get(threadId);
  const hadWriter = writer !== undefined;
  host.historyCache.delete(threadId);
  if (writer) await discardPgThread(host, threadId);
  const existed = await runPg(() =>
    host.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('thread_store_items').where('thread_id', '=', threadId).execute();
      await trx.deleteFrom('thread_store_threads').where('thread_id', '=', threadId).execute();
      // Spawn edges in either direction go with the thread (as @skein/state's deleteThread).
      await trx
        .deleteFrom('thread_spawn_edges')
        .where((eb) =>
          eb.or([eb('parent_thread_id', '=', threadId), eb('child_thread_id', '=', threadId)]),
        )
        .execute();
      const deleted = await trx.deleteFrom('threads').where('id', '=', threadId).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    }),
  );
  if (!existed && !hadWriter) throw ThreadStoreError.threadNotFound(threadId);
}
