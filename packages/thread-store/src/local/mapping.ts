/** Mapping between the state/rollout `ThreadMetadata` shape and the store's `StoredThread`. */

import { realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { decodeSessionSource } from '@skein/protocol';
import { plainRolloutPath } from '@skein/rollout';
import type { ThreadMetadata } from '@skein/state';
import { gitInfoFromParts } from '../patch.js';
import type { PermissionProfile, SessionSource, StoredThread, ThreadSource } from '../types.js';

/**
 * Canonical form of a cwd for comparisons; unchanged when the path does not exist. The native
 * realpath is one syscall where the JS one lstats every path component (it ran 50 times a page).
 */
export function normalizeThreadCwd(cwd: string): string {
  if (cwd === '') return cwd;
  // A page's rows share few cwds: one realpath per cwd for the current synchronous run (the
  // memo is dropped at the next turn of the event loop, so no answer outlives the page).
  let memo = cwdMemo;
  if (memo === null) {
    memo = new Map();
    cwdMemo = memo;
    setImmediate(() => {
      cwdMemo = null;
    });
  }
  const known = memo.get(cwd);
  if (known !== undefined) return known;
  let normalized = cwd;
  try {
    // A cwd that does not exist (any more) stays as given. Asked with a stat that does not
    // throw: a failed realpath costs ~10x as much (the error it builds), and listed cwds are
    // often gone.
    if (statSync(cwd, { throwIfNoEntry: false }) !== undefined) {
      normalized = realpathSync.native(cwd);
    }
  } catch {
    // unreadable: as given
  }
  memo.set(cwd, normalized);
  return normalized;
}
let cwdMemo: Map<string, string> | null = null;

/** Whether a cwd exists (so its normalized form is meaningful). */
export function cwdExists(cwd: string): boolean {
  if (cwd === '') return false;
  try {
    realpathSync.native(cwd);
    return true;
  } catch {
    return false;
  }
}

/** A path is archived when any component is `archived_sessions`. */
export function isArchivedRolloutPath(path: string): boolean {
  return path.split(sep).includes('archived_sessions');
}

/** Permission profile from the stored `sandbox_policy` text: JSON, a bare name, or read-only. */
export function permissionProfileFromSandboxPolicy(text: string): PermissionProfile {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('"')) {
    try {
      const value = JSON.parse(trimmed) as PermissionProfile;
      if (typeof value === 'string') return { type: value };
      return value;
    } catch {
      // fall through
    }
  }
  if (trimmed === '') return { type: 'read-only' };
  return { type: trimmed };
}

/** The title when it is a real name: non-blank and not just the first user message. */
export function distinctTitle(metadata: ThreadMetadata): string | null {
  const title = metadata.title.trim();
  if (title === '' || title === metadata.firstUserMessage.trim()) return null;
  return title;
}

/** A name taken from a title or the name index is dropped when blank or equal to the preview. */
export function nameFromTitle(title: string | null | undefined, preview: string): string | null {
  if (title === null || title === undefined) return null;
  const trimmed = title.trim();
  if (trimmed === '' || trimmed === preview.trim()) return null;
  return title;
}

export function storedThreadFromMetadata(
  metadata: ThreadMetadata,
  defaultProvider: string,
): StoredThread {
  const preview = metadata.preview || metadata.firstUserMessage || '';
  const archivedAtMs = metadata.archived ? (metadata.archivedAtMs ?? metadata.updatedAtMs) : null;
  return {
    threadId: metadata.id,
    extraConfig: null,
    rolloutPath: metadata.rolloutPath === '' ? null : plainRolloutPath(metadata.rolloutPath),
    forkedFromId: metadata.forkedFromId,
    parentThreadId: metadata.parentThreadId,
    preview,
    name: metadata.name !== null && metadata.name.trim() !== '' ? metadata.name : null,
    modelProvider: metadata.modelProvider || defaultProvider,
    model: metadata.model,
    reasoningEffort: metadata.reasoningEffort,
    createdAtMs: metadata.createdAtMs,
    updatedAtMs: metadata.updatedAtMs,
    recencyAtMs: metadata.recencyAtMs || metadata.updatedAtMs,
    archivedAtMs,
    cwd: metadata.cwd === '' ? '' : normalizeThreadCwd(metadata.cwd),
    cliVersion: metadata.cliVersion,
    source: decodeSessionSource(metadata.source) as SessionSource,
    historyMode: metadata.historyMode,
    // Codex answers a custom thread source (a client's own label) as it is stored.
    threadSource:
      metadata.threadSource !== null && metadata.threadSource !== ''
        ? (metadata.threadSource as ThreadSource)
        : null,
    agentNickname: metadata.agentNickname,
    agentRole: metadata.agentRole,
    agentPath: metadata.agentPath,
    gitInfo: gitInfoFromParts(metadata.gitSha, metadata.gitBranch, metadata.gitOriginUrl),
    approvalMode: metadata.approvalMode || 'on-request',
    permissionProfile: permissionProfileFromSandboxPolicy(metadata.sandboxPolicy),
    tokenUsage: null,
    firstUserMessage: metadata.firstUserMessage === '' ? null : metadata.firstUserMessage,
    originator:
      metadata.originator === null || metadata.originator === '' ? null : metadata.originator,
    history: null,
  };
}
