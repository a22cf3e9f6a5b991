/**
 * The SQLite half of `updateThreadMetadata`: seed a missing row from the rollout, apply the
 * observed facts in one upsert, then the literal fields (name, title, git, recency, memory
 * mode) in their own UPDATEs, as Codex 0.169 does.
 *
 * Crash safety: each statement is its own transaction; a crash between them leaves a row with
 * the observed facts but not the literal fields, which repeating the update completes.
 */
import { encodeSessionSource } from '@skein/protocol';
import {
  applyThreadRowPatch,
  defaultThreadMetadata,
  getThread,
  patchThreadMetadata,
  type StateDb,
  type ThreadMetadata,
  touchThreadUpdatedAt,
  upsertThread,
} from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import { hasObservedFacts, threadRowPatchOf } from '../patch.js';
import type { ThreadId, ThreadMetadataPatch } from '../types.js';
import { isArchivedRolloutPath, normalizeThreadCwd } from './mapping.js';
import { inHome, refuseLinkOutsideHome, rolloutMetadata } from './read-thread.js';
import { requireRolloutPath } from './rollout-port.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

/** The SQLite half of an update: seed a missing row, then apply each present field. */
export async function writeStatePatch(
  host: LocalStoreHost,
  db: StateDb,
  threadId: ThreadId,
  patch: ThreadMetadataPatch,
  includeArchived: boolean,
): Promise<void> {
  if (isTouchOnly(patch)) {
    // A LiveThread sends one per user message: one UPDATE instead of a read and an upsert.
    try {
      if (await touchThreadUpdatedAt(db.ctx, threadId, patch.updatedAtMs)) return;
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to update thread metadata for ${threadId}: ${messageOf(error)}`,
        error,
      );
    }
  }
  const entry = host.writers.get(threadId);
  // A patch naming another file: the next flush looks at the row again.
  if (entry !== undefined && patch.rolloutPath != null && patch.rolloutPath !== entry.writer.path)
    entry.rowPathSynced = false;
  let rolloutPath = patch.rolloutPath ?? entry?.writer.path ?? null;
  let existing: ThreadMetadata | undefined;
  try {
    existing = inHome(host, await getThread(db.ctx, threadId));
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to update thread metadata for ${threadId}: ${messageOf(error)}`,
      error,
    );
  }
  if (existing === undefined && rolloutPath === null) {
    rolloutPath = await locateForUpdate(host, threadId, includeArchived);
  }
  const path = rolloutPath ?? existing?.rolloutPath ?? '';
  const archived = existing?.archived ?? isArchivedRolloutPath(path);
  let next: ThreadMetadata;
  if (existing !== undefined) {
    next = { ...existing };
  } else {
    const fromFile = await rolloutMetadata(host, path, archived);
    const createdAtMs = patch.createdAtMs ?? patch.updatedAtMs ?? Date.now();
    next =
      fromFile !== undefined && fromFile.id === threadId
        ? fromFile
        : defaultThreadMetadata(
            threadId,
            path,
            createdAtMs,
            encodeSessionSource(patch.source ?? 'unknown'),
            host.defaultModelProvider,
          );
    next.archived = archived;
    next.archivedAtMs = archived ? (patch.updatedAtMs ?? next.updatedAtMs) : null;
    if (entry !== undefined) next.historyMode = entry.historyMode;
  }
  next = applyObservedFacts(next, patch, path);
  next.recencyAtMs = 0;
  try {
    if (existing === undefined || hasObservedFacts(patch) || patch.updatedAtMs !== undefined) {
      await upsertThread(db.ctx, next);
    }
    // An explicit git update writes exactly the fields it names, in one UPDATE, as Codex
    // 0.169 does: another process's update of the other fields in between is kept. Observed
    // git (a transcript's session_meta) only seeds a new row; an existing one keeps its own.
    const git = patch.gitInfo !== undefined && !hasObservedFacts(patch) ? patch.gitInfo : undefined;
    // A name is written with the name index, in one transaction (update-thread-metadata.ts).
    const literal = {
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(git !== undefined ? { git } : {}),
      ...(patch.advanceRecencyAtMs !== undefined
        ? { advanceRecencyAtMs: patch.advanceRecencyAtMs }
        : {}),
    };
    if (Object.keys(literal).length > 0) await patchThreadMetadata(db.ctx, threadId, literal);
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to update thread metadata for ${threadId}: ${messageOf(error)}`,
      error,
    );
  }
  if (patch.memoryMode !== undefined) {
    try {
      await patchThreadMetadata(db.ctx, threadId, { memoryMode: patch.memoryMode });
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to update memory mode for ${threadId}: ${messageOf(error)}`,
        error,
      );
    }
  }
}

/**
 * Copies the observed facts of a patch onto a row about to be upserted, through state's one
 * patch rule; names, explicit git, memory mode and recency are written by their own UPDATEs.
 */
function applyObservedFacts(
  next: ThreadMetadata,
  patch: ThreadMetadataPatch,
  path: string,
): ThreadMetadata {
  const {
    name: _name,
    git,
    memoryMode: _memoryMode,
    advanceRecencyAtMs: _advance,
    ...observed
  } = threadRowPatchOf(patch);
  if (observed.cwd !== undefined) observed.cwd = normalizeThreadCwd(observed.cwd);
  const row = applyThreadRowPatch(next, {
    ...observed,
    ...(path !== '' ? { rolloutPath: path } : {}),
  });
  if (git && row.gitSha === null && row.gitBranch === null) {
    // A new row takes observed git facts at insert; explicit resolution happens after.
    row.gitSha = git.sha ?? null;
    row.gitBranch = git.branch ?? null;
    row.gitOriginUrl = git.originUrl ?? null;
  }
  return row;
}

/** A patch that only stamps `updatedAtMs` (a touch). */
function isTouchOnly(
  patch: ThreadMetadataPatch,
): patch is ThreadMetadataPatch & { updatedAtMs: number } {
  if (patch.updatedAtMs === undefined) return false;
  for (const [key, value] of Object.entries(patch)) {
    if (key !== 'updatedAtMs' && value !== undefined) return false;
  }
  return true;
}

export async function locateForUpdate(
  host: LocalStoreHost,
  threadId: ThreadId,
  includeArchived: boolean,
): Promise<string> {
  const entry = host.writers.get(threadId);
  if (entry !== undefined) return entry.writer.path;
  const found = await requireRolloutPath(host, threadId, {
    archived: false,
    includeArchived,
    notFound: `thread not found: ${threadId}`,
  });
  await refuseLinkOutsideHome(host, found);
  return found;
}
