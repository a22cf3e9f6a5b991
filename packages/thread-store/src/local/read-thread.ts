/**
 * `LocalThreadStore.readThread` and `readThreadByRolloutPath`, with the lookups they share:
 * SQLite first, verified against the rollout head, then the filesystem; names from the row or
 * the name index; links out of the home refused.
 *
 * Crash safety: reads, but for hiding the row of an unreadable rollout (one UPDATE) and settling
 * a rename a killed process left half done (one UPDATE of the name, then its intent dropped): a
 * crash leaves the row either changed or as it was, and the next read does it again.
 */
import { realpathSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isThreadId, parseRfc3339Ms, parseThreadId } from '@skein/protocol';
import {
  findThreadNameById,
  plainRolloutPath,
  RolloutError,
  type RolloutHeadSummary,
  type RolloutItem,
  type RolloutLine,
  readHeadSummary,
  readSessionMetaLine,
  readThreadHistory,
  resolveRolloutFile,
  rolloutPathInHome,
  settleRenameIntents,
  threadSpawnOf,
} from '@skein/rollout';
import { getThread, hideUnreadableThread, type ThreadMetadata } from '@skein/state';
import { ThreadStoreError, unreadableRolloutError } from '../errors.js';
import type {
  ReadThreadByRolloutPathParams,
  ReadThreadParams,
  SessionSource,
  StoredThread,
  StoredThreadHistory,
  ThreadId,
} from '../types.js';
import { linkOutsideHomeMessage, rolloutLinkOutsideHome } from './home-links.js';
import {
  distinctTitle,
  isArchivedRolloutPath,
  nameFromTitle,
  storedThreadFromMetadata,
} from './mapping.js';
import {
  pathExists,
  readFirstSessionMeta,
  readRolloutMetadata,
  requireRolloutPath,
} from './rollout-port.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

export async function loadHistoryAt(
  host: LocalStoreHost,
  threadId: ThreadId,
  path: string,
): Promise<StoredThreadHistory> {
  try {
    const file = (await resolveRolloutFile(path)) ?? path;
    const read = await readThreadHistory(host.codexHome, file);
    return { threadId, items: itemsOf([...read.inheritedLines, ...read.lines]) };
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to load thread history ${path}: ${messageOf(error)}`,
      error,
    );
  }
}

/** The rollout-derived metadata of a file, or undefined when unreadable. */
export async function rolloutMetadata(
  host: LocalStoreHost,
  path: string,
  archived: boolean,
): Promise<ThreadMetadata | undefined> {
  try {
    const extracted = await readRolloutMetadata(
      path,
      host.defaultModelProvider,
      archived,
      host.codexHome,
    );
    if (!extracted.hasSessionMeta) return undefined;
    const metadata = extracted.metadata;
    metadata.archivedAtMs = archived ? metadata.updatedAtMs : null;
    return metadata;
  } catch {
    return undefined;
  }
}

/** A summary straight from a rollout file, with the name from the name index. */
export async function storedThreadFromRollout(
  host: LocalStoreHost,
  path: string,
  archived: boolean,
): Promise<StoredThread | undefined> {
  const metadata = await rolloutMetadata(host, path, archived);
  if (metadata === undefined) return undefined;
  const thread = storedThreadFromMetadata({ ...metadata, name: null }, host.defaultModelProvider);
  thread.rolloutPath = plainRolloutPath(path);
  // Codex 0.169 names the parent its session meta names (a 0.131 sub-agent's names none).
  const meta = await readFirstSessionMeta(path).catch(() => null);
  thread.parentThreadId = toThreadIdOrNull(meta?.parent_thread_id);
  thread.name = nameFromTitle(
    await findThreadNameById(host.codexHome, metadata.id).catch(() => null),
    thread.preview,
  );
  return thread;
}

export async function stateRow(
  host: LocalStoreHost,
  threadId: ThreadId,
): Promise<ThreadMetadata | undefined> {
  if (host.stateDb === undefined) return undefined;
  try {
    return inHome(host, await getThread(host.stateDb.ctx, threadId));
  } catch (error) {
    host.warn(`state db read failed for thread ${threadId}: ${messageOf(error)}`);
    return undefined;
  }
}

/**
 * A rename of this thread that a killed process left half done (index new, DB old) is finished
 * before the row is read, so a long-running reader does not wait for its next open to see it.
 * One indexed sidecar query when there is none; a failure leaves it for the next open.
 */
async function settleThreadRename(host: LocalStoreHost, threadId: ThreadId): Promise<void> {
  if (host.stateDb === undefined) return;
  await settleRenameIntents(host.stateDb, host.codexHome, { threadId }).catch((error: unknown) =>
    host.warn(`failed to settle a rename of ${threadId}: ${messageOf(error)}`),
  );
}

/**
 * A row as this home sees it: its rollout path re-rooted here when the home was copied or
 * moved, or '' when it names no place in this home (then the file is searched for; nothing
 * outside the home is read or written through a row).
 */
export function inHome(
  host: LocalStoreHost,
  row: ThreadMetadata | undefined,
): ThreadMetadata | undefined {
  if (row === undefined) return undefined;
  const path = rolloutPathInHome(host.codexHome, row.rolloutPath);
  return path === row.rolloutPath ? row : { ...row, rolloutPath: path ?? '' };
}

/** The name of a thread known to SQLite: explicit name, then a distinct title, then index. */
export async function nameForRow(
  host: LocalStoreHost,
  row: ThreadMetadata,
  preview: string,
): Promise<string | null> {
  if (row.name !== null && row.name.trim() !== '') return nameFromTitle(row.name, preview);
  const title = distinctTitle(row);
  if (title !== null) return nameFromTitle(title, preview);
  return nameFromTitle(await findThreadNameById(host.codexHome, row.id).catch(() => null), preview);
}

export async function readLocalThread(
  host: LocalStoreHost,
  params: ReadThreadParams,
): Promise<StoredThread> {
  const { threadId } = params;
  const includeArchived = params.includeArchived ?? false;
  const includeHistory = params.includeHistory ?? false;
  await settleThreadRename(host, threadId);
  const row = await stateRow(host, threadId);

  // Step A: SQLite first, verified against the rollout's own session meta.
  if (
    row !== undefined &&
    row.rolloutPath !== '' &&
    (includeArchived || (!row.archived && !isArchivedRolloutPath(row.rolloutPath)))
  ) {
    await refuseLinkOutsideHome(host, row.rolloutPath);
    const head = await readHeadSummary(row.rolloutPath).catch(() => undefined);
    if (head !== undefined && !head.startsWithSessionMeta) {
      const unreadable = await unreadableRollout(host, threadId, row.rolloutPath);
      if (unreadable !== null) throw unreadable;
    }
    const verified = head !== undefined && head.threadId === threadId;
    // A file no longer where the row says (moved by an archive or unarchive a crash cut short)
    // is read from where it is now, which repairs the row; gone everywhere, the row answers.
    const moved =
      head === undefined &&
      (await resolveRolloutFile(row.rolloutPath)) === null &&
      (await locateRollout(host, threadId, true).catch(() => null)) !== null;
    if (!moved && (!includeHistory || verified)) {
      let thread = await mergeRowAndHead(host, row, verified ? head : undefined);
      if (!includeHistory && verified && head !== undefined) {
        thread = legacyRolloutView(thread, head, host.defaultModelProvider) ?? thread;
      }
      if (includeHistory) {
        thread.history = await loadHistoryAt(host, threadId, row.rolloutPath);
      }
      return thread;
    }
  }

  // Step B: the filesystem.
  const path = await locateRollout(host, threadId, includeArchived);
  await refuseLinkOutsideHome(host, path);
  const archived = isArchivedRolloutPath(path);
  const thread = await storedThreadFromRollout(host, path, archived);
  if (thread === undefined) {
    throw (
      (await unreadableRollout(host, threadId, path)) ??
      ThreadStoreError.internal(`failed to read thread ${threadId} from ${path}`)
    );
  }
  if (!includeArchived && archived) {
    throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
  }
  if (row !== undefined) {
    // A row that pointed elsewhere was repaired by the DB-first lookup above.
    const rowName = await nameForRow(host, row, thread.preview);
    if (rowName !== null) thread.name = rowName;
    const git = { ...row };
    if (git.gitSha !== null || git.gitBranch !== null || git.gitOriginUrl !== null) {
      thread.gitInfo = {
        commitHash: row.gitSha ?? thread.gitInfo?.commitHash ?? null,
        branch: row.gitBranch ?? thread.gitInfo?.branch ?? null,
        repositoryUrl: row.gitOriginUrl ?? thread.gitInfo?.repositoryUrl ?? null,
      };
    }
  }
  if (includeHistory) {
    thread.history = await loadHistoryAt(host, threadId, path);
  }
  return thread;
}

/**
 * The error for a thread whose rollout exists but cannot be read — emptied, or its first line
 * is not a valid session_meta — saying where and why (`unreadableRolloutError`, `Internal` as
 * in Codex 0.169), or null when the file reads (or is gone). Its row is hidden from lists the way a
 * never-messaged thread is (preview cleared), so no list offers a thread that cannot be
 * opened; the row, its name and its DB-only facts stay, and a reindex of a readable file
 * lists it again.
 */
export async function unreadableRollout(
  host: LocalStoreHost,
  threadId: ThreadId,
  path: string,
): Promise<ThreadStoreError | null> {
  let reason: string;
  let cause: unknown;
  try {
    await readSessionMetaLine(path);
    return null;
  } catch (error) {
    const code = error instanceof RolloutError ? error.code : null;
    if (code !== 'EmptyFile' && code !== 'MissingSessionMeta') return null;
    reason = (error as Error).message;
    cause = error;
  }
  if (host.stateDb !== undefined && host.stateDb.ctx.profile.readOnlyReason === null) {
    await hideUnreadableThread(host.stateDb.ctx, threadId, plainRolloutPath(path)).catch(
      (error: unknown) =>
        host.warn(`could not hide unreadable thread ${threadId}: ${messageOf(error)}`),
    );
  }
  return unreadableRolloutError({ path, reason }, cause);
}

/**
 * Refuses (Conflict, nothing read or written) a thread whose rollout is a link — or lies
 * under a linked folder — leading out of the home. A path that does not exist passes.
 */
export async function refuseLinkOutsideHome(host: LocalStoreHost, path: string): Promise<void> {
  const target = await rolloutLinkOutsideHome(host.codexHome, path);
  if (target !== null) {
    throw ThreadStoreError.conflict(linkOutsideHomeMessage(host.codexHome, path, target));
  }
}

/**
 * The SQLite summary as Codex answers it (its DB is the record of every writer), with what
 * its columns cannot hold taken from the verified rollout head: the fork source, a parent
 * the edge table lacks, and the originator where the DB has no column for it (0.131). Only
 * the head of the file is read, so a summary read costs the same for any thread length.
 */
async function mergeRowAndHead(
  host: LocalStoreHost,
  row: ThreadMetadata,
  head: RolloutHeadSummary | undefined,
): Promise<StoredThread> {
  const thread = storedThreadFromMetadata(row, host.defaultModelProvider);
  const meta = head?.sessionMeta ?? null;
  if (meta !== null) {
    thread.forkedFromId = toThreadIdOrNull(meta.forked_from_id) ?? thread.forkedFromId;
    // Codex 0.169 names the parent its session meta names (a 0.131 sub-agent's names none).
    thread.parentThreadId = toThreadIdOrNull(meta.parent_thread_id);
    if (
      thread.originator === null &&
      typeof meta.originator === 'string' &&
      meta.originator !== ''
    ) {
      thread.originator = meta.originator;
    }
  }
  thread.name = await nameForRow(host, row, thread.preview);
  return thread;
}

/** The live writer's file, else the active rollout, else (if allowed) the archived one. */
export async function locateRollout(
  host: LocalStoreHost,
  threadId: ThreadId,
  includeArchived: boolean,
): Promise<string> {
  const entry = host.writers.get(threadId);
  if (entry !== undefined && (await pathExists(entry.writer.path))) {
    if (includeArchived || !isArchivedRolloutPath(entry.writer.path)) return entry.writer.path;
  }
  return requireRolloutPath(host, threadId, {
    archived: false,
    includeArchived,
    notFound: `no rollout found for thread id ${threadId}`,
  });
}

export async function readLocalThreadByRolloutPath(
  host: LocalStoreHost,
  params: ReadThreadByRolloutPathParams,
): Promise<StoredThread> {
  const includeArchived = params.includeArchived ?? false;
  const given = isAbsolute(params.rolloutPath)
    ? params.rolloutPath
    : join(host.codexHome, params.rolloutPath);
  const display = params.rolloutPath;
  try {
    const info = await lstat(given);
    if (info.isDirectory()) {
      throw ThreadStoreError.invalidRequest(
        `failed to resolve rollout path \`${display}\`: path is a directory`,
      );
    }
    if (!info.isFile() && !info.isSymbolicLink()) {
      throw ThreadStoreError.invalidRequest(
        `failed to resolve rollout path \`${display}\`: path is not a file`,
      );
    }
  } catch (error) {
    if (error instanceof ThreadStoreError) throw error;
  }
  const file = await resolveRolloutFile(given);
  if (file === null) {
    throw ThreadStoreError.invalidRequest(
      `failed to resolve rollout path \`${display}\`: file does not exist`,
    );
  }
  // A path in the home must stay in it (a path named outside the home is the caller's own).
  if (rolloutPathInHome(host.codexHome, resolve(given)) === resolve(given)) {
    await refuseLinkOutsideHome(host, given);
  }
  const canonical = plainRolloutPath(canonicalize(file));
  const archived = isArchivedRolloutPath(canonical);
  const thread = await storedThreadFromRollout(host, canonical, archived);
  if (thread === undefined) {
    throw ThreadStoreError.invalidRequest(
      `failed to resolve rollout path \`${display}\`: not a readable rollout`,
    );
  }
  if (!includeArchived && archived) {
    throw ThreadStoreError.invalidRequest(`thread ${thread.threadId} is archived`);
  }
  const row = await stateRow(host, thread.threadId);
  if (row !== undefined) {
    thread.gitInfo = mergeGit(row, thread.gitInfo);
    const rowName = await nameForRow(host, row, thread.preview);
    if (rowName !== null) thread.name = rowName;
  }
  thread.rolloutPath = canonical;
  if (params.includeHistory === true) {
    thread.history = await loadHistoryAt(host, thread.threadId, canonical);
  }
  return thread;
}

export function canonicalize(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function itemsOf(lines: readonly RolloutLine[]): RolloutItem[] {
  return lines.map((line) => {
    const { timestamp: _t, ordinal: _o, metadata: _m, ...item } = line;
    return item as RolloutItem;
  });
}

/**
 * A legacy thread as Codex 0.169 reads it without its history: the rollout head's view (its
 * creation time, which also stands for the update time, its first message, versions, source,
 * parent and fork source as the session meta names them), with what only the DB knows laid
 * over it (recency, cwd, name, model, reasoning effort, git, permissions). Null for a
 * paginated thread (its display metadata lives in SQLite) or a head without a message.
 */
function legacyRolloutView(
  merged: StoredThread,
  head: RolloutHeadSummary,
  defaultProvider: string,
): StoredThread | null {
  const meta = head.sessionMeta;
  if (meta === null || meta.history_mode === 'paginated' || merged.historyMode === 'paginated') {
    return null;
  }
  if (head.preview === null || head.preview === '') return null;
  const createdAtMs = parseRfc3339Ms(head.createdAt ?? meta.timestamp) ?? merged.createdAtMs;
  const spawn = threadSpawnOf(meta.source);
  return {
    ...merged,
    preview: head.preview,
    firstUserMessage: head.firstUserMessage,
    createdAtMs,
    updatedAtMs: createdAtMs,
    cwd: merged.cwd !== '' ? merged.cwd : meta.cwd,
    cliVersion: meta.cli_version ?? '',
    originator:
      typeof meta.originator === 'string' && meta.originator !== '' ? meta.originator : null,
    source: meta.source === undefined ? merged.source : (meta.source as SessionSource),
    modelProvider:
      typeof meta.model_provider === 'string' && meta.model_provider !== ''
        ? meta.model_provider
        : defaultProvider,
    // Codex's rollout view of a thread carries no thread source.
    threadSource: null,
    parentThreadId: toThreadIdOrNull(meta.parent_thread_id),
    forkedFromId: toThreadIdOrNull(meta.forked_from_id),
    agentNickname:
      meta.agent_nickname ??
      (typeof spawn?.agent_nickname === 'string' ? spawn.agent_nickname : null),
    agentRole: meta.agent_role ?? meta.agent_type ?? null,
  };
}

function toThreadIdOrNull(value: string | null | undefined): ThreadId | null {
  return typeof value === 'string' && isThreadId(value) ? parseThreadId(value) : null;
}

export function mergeGit(
  row: ThreadMetadata,
  fromRollout: StoredThread['gitInfo'],
): StoredThread['gitInfo'] {
  const sha = row.gitSha ?? fromRollout?.commitHash ?? null;
  const branch = row.gitBranch ?? fromRollout?.branch ?? null;
  const origin = row.gitOriginUrl ?? fromRollout?.repositoryUrl ?? null;
  if (sha === null && branch === null && origin === null) return null;
  return { commitHash: sha, branch, repositoryUrl: origin };
}
