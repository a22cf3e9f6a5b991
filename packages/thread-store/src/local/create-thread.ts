/**
 * `LocalThreadStore.createThread`: refuse a second live writer, take Codex's writer lock, then
 * open a recorder for the new rollout path (paginated threads with their projection). Nothing
 * reaches disk here: the file is materialized by the first flush or append with items.
 *
 * Crash safety: nothing is written, so a crash leaves no file and no row; the writer lock is
 * an `flock`, released by the kernel with the process.
 */
import { RolloutRecorder, rolloutPathFor, type SessionMetaLine } from '@skein/rollout';
import { ThreadStoreError } from '../errors.js';
import { sessionMetaForCreate } from '../session-meta.js';
import type { CreateThreadParams, GitInfo, ThreadId } from '../types.js';
import { SKEIN_CLI_VERSION } from '../version.js';
import { ThreadProjection } from './paginated.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

export async function createLocalThread(
  host: LocalStoreHost,
  params: CreateThreadParams,
): Promise<void> {
  const { threadId } = params;
  if (host.writers.has(threadId)) throw duplicateWriter(threadId);
  const historyMode = params.historyMode ?? 'legacy';
  // Paginated history lives in Codex 0.169's DBs (its projection); elsewhere it is legacy.
  if (historyMode === 'paginated' && !host.stateDb?.writesPaginatedHistory) {
    throw ThreadStoreError.unsupported('paginated_threads');
  }
  const cwd = params.metadata.cwd;
  if (cwd === null || cwd === '') {
    throw ThreadStoreError.invalidRequest('local thread store requires a cwd');
  }
  const lock = await host.takeWriterLock(threadId);
  const createdAt = new Date(params.createdAtMs ?? Date.now());
  const path = rolloutPathFor(host.codexHome, threadId, createdAt);
  const firstOrdinal =
    historyMode === 'paginated' ? (params.historyBase?.endOrdinalExclusive ?? 0) : undefined;
  const projection =
    firstOrdinal !== undefined && host.stateDb !== undefined
      ? ThreadProjection.forNewFile(host.stateDb, threadId, path, firstOrdinal, host.warn)
      : undefined;
  let writer: RolloutRecorder;
  try {
    writer = RolloutRecorder.createWithSessionMeta({
      path,
      threadId,
      buildSessionMeta: () => sessionMetaFor(host, params, cwd, createdAt),
      // The store materializes on any flush or append with items (spec §4.5 step 5).
      materializeOnFlush: true,
      ...(firstOrdinal !== undefined ? { firstOrdinal } : {}),
      ...(projection ? { onWritten: projection.onWritten } : {}),
      ...(host.fsyncPolicy ? { fsyncPolicy: host.fsyncPolicy } : {}),
    });
  } catch (error) {
    await lock?.release();
    throw ThreadStoreError.internal(
      `failed to initialize local thread recorder: ${messageOf(error)}`,
      error,
    );
  }
  if (host.writers.has(threadId)) {
    await lock?.release();
    throw duplicateWriter(threadId);
  }
  host.writers.set(threadId, { writer, historyMode, projection, lock });
}

export function duplicateWriter(threadId: ThreadId): ThreadStoreError {
  return ThreadStoreError.invalidRequest(`thread ${threadId} already has a live local writer`);
}

async function sessionMetaFor(
  host: LocalStoreHost,
  params: CreateThreadParams,
  cwd: string,
  createdAt: Date,
): Promise<SessionMetaLine> {
  const git = await host.gitInfo(cwd).catch(() => null);
  return sessionMetaForCreate(params, {
    timestamp: createdAt.toISOString(),
    cwd,
    cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
    git: git === null ? null : gitLineOf(git),
  });
}

/** Git facts in the rollout's words, leaving out what is unknown. */
function gitLineOf(git: GitInfo): Record<string, string> {
  const line: Record<string, string> = {};
  if (git.commitHash !== null) line.commit_hash = git.commitHash;
  if (git.branch !== null) line.branch = git.branch;
  if (git.repositoryUrl !== null) line.repository_url = git.repositoryUrl;
  return line;
}
