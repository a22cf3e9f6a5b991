/**
 * `PostgresThreadStore.updateThreadMetadata`: apply a metadata patch to a thread's row (and its
 * token usage to the store's own row), returning the thread as patched. A created thread its
 * writer has not written yet is written first, so the patch has a row to land on.
 *
 * Crash safety: writing a pending thread is its own transaction (see materialize-thread.ts);
 * the patch is a second one that locks the thread's row, updates `threads` (through state's
 * `patchThreadMetadata`, the one patch-to-column mapping of both dialects) and
 * `thread_store_threads` and reads the result back. A crash between the two leaves the thread
 * written and unpatched; a crash inside the second leaves it unpatched.
 */
import { patchThreadMetadata, type StateDatabase } from '@skein/state';
import {
  assertThreadMetadataPatchBounds,
  type StoredThread,
  ThreadStoreError,
  threadRowPatchOf,
  type UpdateThreadMetadataParams,
} from '@skein/thread-store';
import type { Kysely } from 'kysely';
import { enqueue } from './live-writer.js';
import { materializeWriter } from './materialize-thread.js';
import {
  checkArchivedRead,
  type PgStoreHost,
  readThreadMetadata,
  runPg,
  storedThreadOf,
} from './store-host.js';

/** Patches a thread's metadata (see this file's header). */
export async function updatePgThreadMetadata(
  host: PgStoreHost,
  params: UpdateThreadMetadataParams,
): Promise<StoredThread> {
  assertThreadMetadataPatchBounds(params.patch);
  const { threadId, patch } = params;
  const writer = host.writers.get(threadId);
  if (writer && !writer.materialized) {
    // The thread exists for its writer; give the patch a row to land on.
    await enqueue(writer, () => materializeWriter(host, writer));
  }
  const { ctx } = host;
  const meta = await runPg(() =>
    host.db.transaction().execute(async (trx) => {
      const current = await readThreadMetadata(trx, threadId, true);
      if (!current) return undefined;
      checkArchivedRead(current, params.includeArchived);
      // The state schema is a part of this database's; the transaction serves state's query.
      const stateTrx = { ...ctx, db: trx as unknown as Kysely<StateDatabase> };
      await patchThreadMetadata(stateTrx, threadId, threadRowPatchOf(patch));
      if (patch.tokenUsage !== undefined) {
        await trx
          .updateTable('thread_store_threads')
          .set({ token_usage_json: JSON.stringify(patch.tokenUsage) })
          .where('thread_id', '=', threadId)
          .execute();
      }
      return readThreadMetadata(trx, threadId);
    }),
  );
  if (!meta) throw ThreadStoreError.threadNotFound(threadId);
  return storedThreadOf(host.db, meta);
}
