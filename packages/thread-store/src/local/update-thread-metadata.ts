/**
 * `LocalThreadStore.updateThreadMetadata`: under the writer lock when the rollout gets a line,
 * the SQLite half (metadata-state-patch.ts), then the rollout half: a `session_meta` line for a
 * memory mode or a legacy thread's git, a reconcile, the name index.
 *
 * Crash safety: SQLite is written first, the rollout after; a crash between leaves the row
 * ahead of the rollout (no file half-written: each is one append); repeating the update
 * completes it. A name has the name index as its commit point: the DB transaction that sets it
 * commits after the index write, under an intent recorded in Skein's sidecar beforehand. A
 * crash before the index write leaves both names old; one after it and before the commit
 * leaves the index new and the DB old until the next open (or read of the thread) settles the
 * intent and brings the DB to the index's name (`settleRenameIntents`).
 */
import { stat } from 'node:fs/promises';
import {
  beginRenameIntent,
  nameOrNone,
  resolveRolloutFile,
  type SessionMetaLine,
} from '@skein/rollout';
import {
  dropRenameIntent,
  getThread,
  patchThreadMetadata,
  type StateDb,
  type ThreadMetadata,
  touchThreadUpdatedAt,
  writeTransaction,
} from '@skein/state';
import { ThreadStoreError, toThreadStoreError } from '../errors.js';
import {
  assertThreadMetadataPatchBounds,
  isThreadMetadataPatchEmpty,
  needsRolloutCompat,
  type resolveGitInfoPatch,
  sqliteWriteMustSucceed,
} from '../patch.js';
import type {
  StoredThread,
  ThreadId,
  ThreadMetadataPatch,
  UpdateThreadMetadataParams,
} from '../types.js';
import { persistLocalThread } from './append-items.js';
import { isArchivedRolloutPath, storedThreadFromMetadata } from './mapping.js';
import { locateForUpdate, writeStatePatch } from './metadata-state-patch.js';
import {
  nameForRow,
  readLocalThread,
  readLocalThreadByRolloutPath,
  stateRow,
  unreadableRollout,
} from './read-thread.js';
import {
  appendRolloutItemToPath,
  appendThreadName,
  readFirstSessionMeta,
  reconcileRollout,
  removeThreadNameEntries,
} from './rollout-port.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

export async function updateLocalThreadMetadata(
  host: LocalStoreHost,
  params: UpdateThreadMetadataParams,
): Promise<StoredThread> {
  assertThreadMetadataPatchBounds(params.patch);
  const { threadId, patch } = params;
  const includeArchived = params.includeArchived ?? false;
  if (isThreadMetadataPatchEmpty(patch)) {
    return readLocalThread(host, { threadId, includeArchived });
  }
  const applied = await applyMetadataPatch(host, params);
  if (applied !== undefined) return applied;
  const live = await liveThreadFromRow(host, threadId);
  return live ?? readLocalThread(host, { threadId, includeArchived });
}

/**
 * `updateThreadMetadata` for a LiveThread's derived patches: the same writes, without
 * building the summary it would return (a row read and a name-index read per append).
 */
export async function applyLocalDerivedMetadata(
  host: LocalStoreHost,
  params: UpdateThreadMetadataParams,
): Promise<void> {
  if (isThreadMetadataPatchEmpty(params.patch)) return;
  await applyMetadataPatch(host, params);
}

/** The writes of a metadata update; returns the thread when the rollout half built it. */
async function applyMetadataPatch(
  host: LocalStoreHost,
  params: UpdateThreadMetadataParams,
): Promise<StoredThread | undefined> {
  const { threadId, patch } = params;
  const includeArchived = params.includeArchived ?? false;
  const db = host.stateDb;
  // An update that appends to the rollout needs the thread's writer lock, taken before
  // anything is written: refused, like a second Codex, while another process writes it.
  const lock = (await appendsToRollout(host, threadId, patch))
    ? await host.takeWriterLock(threadId)
    : undefined;
  try {
    if (db !== undefined) {
      try {
        await writeStatePatch(host, db, threadId, patch, includeArchived);
      } catch (error) {
        const failure = toThreadStoreError(error);
        if (failure.code !== 'Internal' || sqliteWriteMustSucceed(patch)) throw failure;
        host.warn(`state db update_thread_metadata failed for ${threadId}: ${failure.detail}`);
      }
    }
    if (!needsRolloutCompat(patch)) return undefined;
    return await applyRolloutCompat(host, threadId, patch, includeArchived);
  } finally {
    await lock?.release();
  }
}

/**
 * Whether an explicit update appends a `session_meta` line to a rollout this store is not
 * writing: a memory mode, or git on a legacy thread (paginated threads keep git in the DB).
 */
async function appendsToRollout(
  host: LocalStoreHost,
  threadId: ThreadId,
  patch: ThreadMetadataPatch,
): Promise<boolean> {
  if (host.writers.has(threadId) || !needsRolloutCompat(patch)) return false;
  if (patch.memoryMode !== undefined) return true;
  if (patch.gitInfo === undefined) return false;
  const row = await stateRow(host, threadId);
  if (row !== undefined) return row.historyMode !== 'paginated';
  return true;
}

/**
 * For a thread this store is writing, the row that was just updated from the same facts the
 * rollout holds is the current summary; returning it spares re-reading the rollout on every
 * derived update (one per LiveThread append).
 */
async function liveThreadFromRow(
  host: LocalStoreHost,
  threadId: ThreadId,
): Promise<StoredThread | undefined> {
  const entry = host.writers.get(threadId);
  if (entry === undefined || host.stateDb === undefined) return undefined;
  const row = await stateRow(host, threadId);
  if (row === undefined || row.rolloutPath !== entry.writer.path) return undefined;
  const thread = storedThreadFromMetadata(row, host.defaultModelProvider);
  thread.name = await nameForRow(host, row, thread.preview);
  return thread;
}

/** Mirrors explicit mutations into the rollout and name index (always hard failures). */
async function applyRolloutCompat(
  host: LocalStoreHost,
  threadId: ThreadId,
  patch: ThreadMetadataPatch,
  includeArchived: boolean,
): Promise<StoredThread> {
  const entry = host.writers.get(threadId);
  if (entry !== undefined) await persistLocalThread(host, threadId);
  const path = await locateForUpdate(host, threadId, includeArchived);
  const archived = isArchivedRolloutPath(path);
  const db = host.stateDb;

  if (patch.memoryMode !== undefined) {
    try {
      const meta = await ownSessionMeta(host, threadId, path, 'failed to set thread memory mode');
      const { git: _git, ...withoutGit } = meta;
      await appendRolloutItemToPath(path, {
        type: 'session_meta',
        payload: { ...withoutGit, memory_mode: patch.memoryMode },
      });
    } catch (error) {
      throw toThreadStoreError(error, 'failed to set thread memory mode');
    }
  }
  // The git values after the SQLite half wrote the named fields (with whatever another
  // process wrote to the others), captured before reconcile re-reads the rollout.
  let resolvedGit: ReturnType<typeof resolveGitInfoPatch> | undefined;
  if (patch.gitInfo !== undefined) {
    if (db === undefined) {
      throw ThreadStoreError.internal(`sqlite state db unavailable for thread ${threadId}`);
    }
    const row = await getThread(db.ctx, threadId).catch(() => undefined);
    if (row === undefined) {
      throw ThreadStoreError.internal(`thread metadata unavailable before git update: ${threadId}`);
    }
    resolvedGit = { sha: row.gitSha, branch: row.gitBranch, originUrl: row.gitOriginUrl };
  }
  // Only a memory-mode line changes what the rollout says about the row; a rename or a git
  // update leaves every other column as it was (spec codex-db-effects §2.2-2.3).
  if (db !== undefined && patch.memoryMode !== undefined) {
    try {
      await reconcileRollout(db, path, archived, host.defaultModelProvider, host.codexHome);
    } catch (error) {
      host.warn(`failed to reconcile thread ${threadId}: ${messageOf(error)}`);
    }
  }
  if (patch.name !== undefined) {
    const name = patch.name;
    // The name index is what SQLite-less readers and the Codex CLI see: it must succeed.
    let indexed = false;
    const indexName = async (): Promise<void> => {
      try {
        const named = nameOrNone(name);
        if (named === null) {
          await removeThreadNameEntries(host.codexHome, threadId);
        } else {
          await appendThreadName(host.codexHome, threadId, named);
        }
        indexed = true;
      } catch (error) {
        throw ThreadStoreError.internal(`failed to index thread name: ${messageOf(error)}`, error);
      }
    };
    if (db === undefined) {
      await indexName();
    } else {
      // The index is the commit point: the DB's name is written in a transaction that commits
      // only after the index holds the name. A process killed between the index write and the
      // commit leaves the index new and the DB old; the intent, committed first, lets the next
      // open finish the DB half (rename-intents.ts in the rollout package). The DB half stays
      // best-effort (spec §6.6): if it fails, the index is still written.
      const intent = await beginRenameIntent(db, host.codexHome, threadId, name).catch(
        (error: unknown) => {
          host.warn(`failed to record the rename of ${threadId}: ${messageOf(error)}`);
          return undefined;
        },
      );
      try {
        await writeTransaction(db.ctx, async (trx) => {
          const updated = await patchThreadMetadata({ ...db.ctx, db: trx }, threadId, { name });
          if (!updated) host.warn(`thread metadata unavailable before name update: ${threadId}`);
          await indexName();
        });
      } catch (error) {
        if (error instanceof ThreadStoreError && !indexed) throw error;
        host.warn(`failed to set thread name in the state db: ${messageOf(error)}`);
        if (!indexed) await indexName();
      } finally {
        if (intent !== undefined) {
          await dropRenameIntent(db, intent).catch((error: unknown) =>
            host.warn(`failed to drop the rename intent of ${threadId}: ${messageOf(error)}`),
          );
        }
      }
    }
  }
  if (resolvedGit !== undefined && db !== undefined) {
    const row = await getThread(db.ctx, threadId).catch(() => undefined);
    try {
      const meta = await ownSessionMeta(host, threadId, path, 'failed to set thread git metadata');
      // Paginated threads keep git in the DB only; legacy ones also in the rollout, where
      // Codex's later reconcile reads it (spec codex-db-effects §2.3).
      if (meta.history_mode !== 'paginated') {
        await appendGitSessionMeta(host, db, threadId, path, meta, resolvedGit, row);
      }
    } catch (error) {
      throw toThreadStoreError(error, 'failed to set thread git metadata');
    }
  }
  let thread: StoredThread;
  try {
    thread = await readLocalThread(host, { threadId, includeArchived: true });
  } catch {
    thread = await readLocalThreadByRolloutPath(host, { rolloutPath: path, includeArchived: true });
  }
  if (resolvedGit !== undefined) {
    thread.gitInfo =
      resolvedGit.sha === null && resolvedGit.branch === null && resolvedGit.originUrl === null
        ? null
        : {
            commitHash: resolvedGit.sha,
            branch: resolvedGit.branch,
            repositoryUrl: resolvedGit.originUrl,
          };
  }
  return thread;
}

/**
 * A legacy thread's git update as a `session_meta` line carrying the merged git. As Codex does,
 * the row's `updated_at` first catches up with the file as it was before this line (a file
 * written since the row was stamped), so the row trails the file by this one write.
 */
async function appendGitSessionMeta(
  host: LocalStoreHost,
  db: StateDb,
  threadId: ThreadId,
  path: string,
  meta: SessionMetaLine,
  resolvedGit: { sha: string | null; branch: string | null; originUrl: string | null },
  row: ThreadMetadata | undefined,
): Promise<void> {
  const file = (await resolveRolloutFile(path)) ?? path;
  const before = Math.floor((await stat(file)).mtimeMs);
  if (row !== undefined && before > row.updatedAtMs) {
    await touchThreadUpdatedAt(db.ctx, threadId, before).catch((error: unknown) =>
      host.warn(`failed to stamp thread ${threadId}: ${messageOf(error)}`),
    );
  }
  const gitLine: Record<string, string> = {};
  if (resolvedGit.sha !== null) gitLine.commit_hash = resolvedGit.sha;
  if (resolvedGit.branch !== null) gitLine.branch = resolvedGit.branch;
  if (resolvedGit.originUrl !== null) gitLine.repository_url = resolvedGit.originUrl;
  const payload: SessionMetaLine = { ...meta, git: gitLine };
  if (row?.memoryMode === 'disabled' || row?.memoryMode === 'enabled') {
    payload.memory_mode = row.memoryMode;
  }
  await appendRolloutItemToPath(path, { type: 'session_meta', payload });
}

async function ownSessionMeta(
  host: LocalStoreHost,
  threadId: ThreadId,
  path: string,
  context: string,
): Promise<SessionMetaLine> {
  const file = (await resolveRolloutFile(path)) ?? path;
  const meta = await readFirstSessionMeta(file);
  if (meta === null) {
    // An emptied or damaged rollout is named as a read names it (and hidden from lists).
    throw (
      (await unreadableRollout(host, threadId, path)) ??
      ThreadStoreError.internal(`${context}: rollout has no session metadata`)
    );
  }
  if (meta.id.toLowerCase() !== threadId) {
    throw ThreadStoreError.internal(
      `${context}: rollout session metadata id mismatch: expected ${threadId}, found ${meta.id}`,
    );
  }
  return meta;
}
