/**
 * `LocalThreadStore.deleteThread`, a hard delete: the active and archived rollouts (plain and
 * `.zst`), the thread's `session_index.jsonl` entries, its rows (thread, spawn edges, read
 * receipt) and its paginated projection. Refused, with nothing written, while another process
 * writes the thread or a paginated fork still reads its history through it (as Codex refuses),
 * and when any of its files leads out of the home.
 *
 * Crash safety: each step is idempotent and the files go first. A crash midway leaves some of
 * the later pieces (name entries, rows) behind; they name a thread without a rollout, which
 * reads as not found, and deleting again finishes the job.
 */
import type { ThreadId } from '@skein/protocol';
import {
  compressedRolloutPath,
  plainRolloutPath,
  resolveRolloutFile,
  rolloutPathInHome,
} from '@skein/rollout';
import {
  deleteThread as deleteThreadRow,
  getThread,
  paginatedThreadsCreatedSince,
} from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import type { DeleteThreadParams } from '../types.js';
import type { LocalFileOpsHost } from './file-ops-host.js';
import {
  lookupRolloutPath,
  readFirstSessionMeta,
  removeThreadNameEntries,
} from './rollout-port.js';
import { deleteRolloutFile, messageOf } from './rollout-scope.js';

/** `cannot delete thread <id>: forked history still references it` when a fork reads it. */
async function refuseIfForkReferences(host: LocalFileOpsHost, threadId: ThreadId): Promise<void> {
  const db = host.stateDb;
  if (db === undefined) return;
  const row = await getThread(db.ctx, threadId).catch(() => undefined);
  if (row === undefined || row.historyMode !== 'paginated') return;
  const candidates = await paginatedThreadsCreatedSince(db.ctx, row.createdAtMs).catch(() => []);
  for (const candidate of candidates) {
    if (candidate.id === threadId) continue;
    const path = rolloutPathInHome(host.codexHome, candidate.rolloutPath);
    if (path === null) continue;
    const file = (await resolveRolloutFile(path)) ?? path;
    const meta = await readFirstSessionMeta(file).catch(() => null);
    if (meta?.history_base?.thread_id?.toLowerCase() === threadId) {
      throw ThreadStoreError.invalidRequest(
        `cannot delete thread ${threadId}: forked history still references it`,
      );
    }
  }
}

/** Deletes everything of a thread (see this file's header). */
export async function deleteLocalThread(
  host: LocalFileOpsHost,
  params: DeleteThreadParams,
): Promise<void> {
  const { threadId } = params;
  await refuseIfForkReferences(host, threadId);
  await host.assertNoOtherWriter(threadId);
  const paths = new Set<string>();
  for (const archived of [false, true]) {
    const found = await lookupRolloutPath(host, threadId, archived);
    if (found !== null) paths.add(plainRolloutPath(found));
  }
  // Nothing is deleted when any of the thread's files leads out of the home.
  for (const path of paths) await host.refuseLinkOutsideHome(path);
  const livePath = await host.dropLiveWriter(threadId);
  if (livePath !== null) paths.add(livePath);
  let deletedAny = false;
  for (const path of paths) {
    for (const candidate of [path, compressedRolloutPath(path)]) {
      if (await deleteRolloutFile(candidate, threadId)) deletedAny = true;
    }
  }
  try {
    await removeThreadNameEntries(host.codexHome, threadId);
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to delete thread name index entries for ${threadId}: ${messageOf(error)}`,
      error,
    );
  }
  let rowDeleted = false;
  if (host.stateDb !== undefined) {
    try {
      rowDeleted = await deleteThreadRow(host.stateDb.ctx, threadId);
      const history = host.stateDb.historyDb();
      if (history !== undefined && history.readOnlyReason === null) history.deleteThread(threadId);
    } catch (error) {
      host.warn(`failed to delete state rows for thread ${threadId}: ${messageOf(error)}`);
    }
  }
  if (paths.size === 0 && !deletedAny && !rowDeleted) {
    throw ThreadStoreError.threadNotFound(threadId);
  }
}
