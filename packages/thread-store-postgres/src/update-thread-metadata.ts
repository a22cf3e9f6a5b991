/**
 * `PostgresThreadStore.updateThreadMetadata`: apply a metadata patch to a thread's row (and its
 * token usage to the store's own row), returning the thread as patched. A created thread its
 * writer has not written yet is written first, so the patch has a row to land on.
 *
 * Crash safety: writing a pending thread is its own transaction (see materialize-thread.ts);
 * the patch is a second one that locks the thread's row, updates `threads` and
 * `thread_store_threads` and reads the result back. A crash between the two leaves the thread
 * written and unpatched; a crash inside the second leaves it unpatched.
 */
import { encodeSessionSource } from '@skein/protocol';
import {
  assertThreadMetadataPatchBounds,
  type StoredThread,
  ThreadStoreError,
  type UpdateThreadMetadataParams,
} from '@skein/thread-store';
import { encodePermissionProfile } from './codec.js';
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
      const set: Record<string, unknown> = {};
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.preview !== undefined) set.preview = patch.preview;
      if (patch.title !== undefined) set.title = patch.title;
      if (patch.modelProvider !== undefined) set.model_provider = patch.modelProvider;
      if (patch.model !== undefined) set.model = patch.model;
      if (patch.reasoningEffort !== undefined) set.reasoning_effort = patch.reasoningEffort;
      if (patch.createdAtMs !== undefined) set.created_at_ms = Math.trunc(patch.createdAtMs);
      if (patch.updatedAtMs !== undefined) {
        set.updated_at_ms = ctx.updatedClock.allocate(patch.updatedAtMs);
      }
      if (patch.source !== undefined) set.source = encodeSessionSource(patch.source);
      if (patch.threadSource !== undefined) set.thread_source = patch.threadSource;
      if (patch.agentNickname !== undefined) set.agent_nickname = patch.agentNickname;
      if (patch.agentRole !== undefined) set.agent_role = patch.agentRole;
      if (patch.agentPath !== undefined) set.agent_path = patch.agentPath;
      if (patch.cwd !== undefined) set.cwd = patch.cwd;
      if (patch.cliVersion !== undefined) set.cli_version = patch.cliVersion;
      if (patch.approvalMode !== undefined) set.approval_mode = patch.approvalMode;
      if (patch.permissionProfile !== undefined) {
        set.sandbox_policy = encodePermissionProfile(patch.permissionProfile);
      }
      if (patch.tokenUsage !== undefined) {
        set.tokens_used = Math.max(0, Math.trunc(patch.tokenUsage.totalTokens));
      }
      if (patch.firstUserMessage !== undefined) {
        set.first_user_message = patch.firstUserMessage;
        // Preview falls back to the first user message (the SQLite index's rule).
        if (patch.preview === undefined && current.preview === '') {
          set.preview = patch.firstUserMessage;
        }
      }
      if (patch.gitInfo !== undefined) {
        if (patch.gitInfo.sha !== undefined) set.git_sha = patch.gitInfo.sha;
        if (patch.gitInfo.branch !== undefined) set.git_branch = patch.gitInfo.branch;
        if (patch.gitInfo.originUrl !== undefined) set.git_origin_url = patch.gitInfo.originUrl;
      }
      if (patch.memoryMode !== undefined) set.memory_mode = patch.memoryMode;
      if (patch.historyMode !== undefined) set.history_mode = patch.historyMode;
      let update = trx.updateTable('threads').where('id', '=', threadId);
      let changes = Object.keys(set).length;
      if (changes > 0) update = update.set(set as never);
      if (patch.advanceRecencyAtMs !== undefined) {
        const target = ctx.recencyClock.allocate(patch.advanceRecencyAtMs);
        update = update.set((eb) => ({
          recency_at_ms: eb
            .case()
            .when('recency_at_ms', '<', target)
            .then(eb.val(target))
            .else(eb.ref('recency_at_ms'))
            .end(),
        }));
        changes += 1;
      }
      if (changes > 0) await update.execute();
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
