/**
 * Column encodings shared by reads and writes: sources, permission profiles and token usage are
 * stored the way the SQLite index stores them, so one query layer serves both dialects.
 */
import { decodeSessionSource, type ThreadId } from '@skein/protocol';
import type { ThreadMetadata } from '@skein/state';
import {
  gitInfoFromParts,
  type PermissionProfile,
  type StoredThread,
  type ThreadSource,
  type TokenUsage,
  tokenUsageSchema,
} from '@skein/thread-store';

// The source codec is the shared vocabulary's (one encoding for both dialects), exported here too.
export { decodeSessionSource, encodeSessionSource } from '@skein/protocol';

/** A permission profile is stored as its JSON text; a bare legacy name stays a string. */
export function encodePermissionProfile(profile: PermissionProfile): string {
  return JSON.stringify(profile);
}

export function decodePermissionProfile(text: string): PermissionProfile {
  try {
    return JSON.parse(text) as PermissionProfile;
  } catch {
    return text === '' ? { type: 'read-only' } : text;
  }
}

export function decodeTokenUsage(text: string | null): TokenUsage | null {
  if (text === null) return null;
  try {
    const parsed = tokenUsageSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as TokenUsage) : null;
  } catch {
    return null;
  }
}

const THREAD_SOURCES: ReadonlySet<string> = new Set(['user', 'subagent', 'memory_consolidation']);

/** Extra per-thread facts the `threads` row has no column for. */
export interface ThreadExtras {
  tokenUsageJson: string | null;
  extraConfigJson: string | null;
}

/** The StoredThread for a row: a pathless store, so `rolloutPath` is always null. */
export function storedThreadFromMetadata(
  meta: ThreadMetadata,
  extras: ThreadExtras | undefined,
): StoredThread {
  const threadSource =
    meta.threadSource !== null && THREAD_SOURCES.has(meta.threadSource)
      ? (meta.threadSource as ThreadSource)
      : null;
  let extraConfig: StoredThread['extraConfig'] = null;
  if (extras?.extraConfigJson) {
    try {
      extraConfig = JSON.parse(extras.extraConfigJson) as StoredThread['extraConfig'];
    } catch {
      extraConfig = null;
    }
  }
  return {
    threadId: meta.id as ThreadId,
    extraConfig,
    rolloutPath: null,
    forkedFromId: meta.forkedFromId,
    parentThreadId: meta.parentThreadId,
    preview: meta.preview,
    name: meta.name,
    modelProvider: meta.modelProvider,
    model: meta.model,
    reasoningEffort: meta.reasoningEffort,
    createdAtMs: meta.createdAtMs,
    updatedAtMs: meta.updatedAtMs,
    recencyAtMs: meta.recencyAtMs || meta.updatedAtMs,
    archivedAtMs: meta.archived ? (meta.archivedAtMs ?? meta.updatedAtMs) : null,
    cwd: meta.cwd,
    cliVersion: meta.cliVersion,
    source: decodeSessionSource(meta.source),
    historyMode: meta.historyMode,
    threadSource,
    agentNickname: meta.agentNickname,
    agentRole: meta.agentRole,
    agentPath: meta.agentPath,
    gitInfo: gitInfoFromParts(meta.gitSha, meta.gitBranch, meta.gitOriginUrl),
    approvalMode: meta.approvalMode,
    permissionProfile: decodePermissionProfile(meta.sandboxPolicy),
    tokenUsage: decodeTokenUsage(extras?.tokenUsageJson ?? null),
    firstUserMessage: meta.firstUserMessage === '' ? null : meta.firstUserMessage,
    history: null,
  };
}
