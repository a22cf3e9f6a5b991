/** Presence-semantics helpers for `ThreadMetadataPatch` and `GitInfoPatch` (spec §3.4, §3.5). */
import { encodeSessionSource } from '@skein/protocol';
import type { ThreadRowPatch } from '@skein/state';
import { ThreadStoreError } from './errors.js';
import type { GitInfo, GitInfoPatch, ThreadMetadataPatch } from './types.js';

const GIT_PATCH_KEYS = ['sha', 'branch', 'originUrl'] as const;

/** Fields that carry facts observed in history (spec §4.10); name, git, memory and time are not. */
export const OBSERVED_FACT_FIELDS = [
  'rolloutPath',
  'preview',
  'title',
  'modelProvider',
  'model',
  'reasoningEffort',
  'createdAtMs',
  'source',
  'threadSource',
  'agentNickname',
  'agentRole',
  'agentPath',
  'cwd',
  'cliVersion',
  'approvalMode',
  'permissionProfile',
  'tokenUsage',
  'firstUserMessage',
] as const satisfies readonly (keyof ThreadMetadataPatch)[];

/** Whether a git patch changes nothing (every key absent). */
export function isGitInfoPatchEmpty(patch: GitInfoPatch): boolean {
  return GIT_PATCH_KEYS.every((key) => patch[key] === undefined);
}

/** True when every field is absent (`{}` decodes to an empty patch). */
export function isThreadMetadataPatchEmpty(patch: ThreadMetadataPatch): boolean {
  return Object.values(patch).every((value) => value === undefined);
}

/** Every field present in `next` replaces the current one, clears included. */
export function mergeGitInfoPatch(current: GitInfoPatch, next: GitInfoPatch): GitInfoPatch {
  const merged: GitInfoPatch = { ...current };
  for (const key of GIT_PATCH_KEYS) {
    const value = next[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/**
 * Merges `next` over `current`: every present field replaces, clears are kept, and `gitInfo`
 * merges field by field. Neither input is modified.
 */
export function mergeThreadMetadataPatch(
  current: ThreadMetadataPatch,
  next: ThreadMetadataPatch,
): ThreadMetadataPatch {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    if (key === 'gitInfo') {
      merged.gitInfo = mergeGitInfoPatch(current.gitInfo ?? {}, value as GitInfoPatch);
    } else {
      merged[key] = value;
    }
  }
  return merged as ThreadMetadataPatch;
}

/**
 * Whether a patch carries facts observed in history (as opposed to explicit edits such as a name).
 */
export function hasObservedFacts(patch: ThreadMetadataPatch): boolean {
  return OBSERVED_FACT_FIELDS.some((key) => patch[key] !== undefined);
}

/** Explicit user/API mutations that the local store mirrors into the JSONL and name index. */
export function needsRolloutCompat(patch: ThreadMetadataPatch): boolean {
  if (patch.name !== undefined) return true;
  return (
    (patch.memoryMode !== undefined || patch.gitInfo !== undefined) && !hasObservedFacts(patch)
  );
}

/** An explicit git-only update: the one case where a state-DB failure must fail the call. */
export function sqliteWriteMustSucceed(patch: ThreadMetadataPatch): boolean {
  return patch.gitInfo !== undefined && !hasObservedFacts(patch);
}

/** `git_info_from_parts`: null when all three parts are null. */
export function gitInfoFromParts(
  sha: string | null | undefined,
  branch: string | null | undefined,
  originUrl: string | null | undefined,
): GitInfo | null {
  if (sha == null && branch == null && originUrl == null) return null;
  return { commitHash: sha ?? null, branch: branch ?? null, repositoryUrl: originUrl ?? null };
}

/** Resolves a git patch against existing values: a present field (even null) wins. */
export function resolveGitInfoPatch(
  existing: GitInfo | null,
  patch: GitInfoPatch,
): { sha: string | null; branch: string | null; originUrl: string | null } {
  return {
    sha: patch.sha !== undefined ? patch.sha : (existing?.commitHash ?? null),
    branch: patch.branch !== undefined ? patch.branch : (existing?.branch ?? null),
    originUrl: patch.originUrl !== undefined ? patch.originUrl : (existing?.repositoryUrl ?? null),
  };
}

/** The patch built from observed git facts: set what is present, never clear. */
export function gitInfoPatchFromObserved(git: {
  commitHash?: string | null | undefined;
  branch?: string | null | undefined;
  repositoryUrl?: string | null | undefined;
}): GitInfoPatch {
  const patch: GitInfoPatch = {};
  if (git.commitHash != null) patch.sha = git.commitHash;
  if (git.branch != null) patch.branch = git.branch;
  if (git.repositoryUrl != null) patch.originUrl = git.repositoryUrl;
  return patch;
}

/** Largest explicit thread name, in UTF-8 bytes: a name is a label, not a document. */
export const MAX_THREAD_NAME_BYTES = 16 * 1024;

/**
 * Refuses an explicit name past `MAX_THREAD_NAME_BYTES` (InvalidRequest, nothing written):
 * every store takes the check, so no surface can grow the name index or a row without bound.
 */
export function assertThreadMetadataPatchBounds(patch: ThreadMetadataPatch): void {
  const name = patch.name;
  if (typeof name !== 'string') return;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_THREAD_NAME_BYTES) {
    throw ThreadStoreError.invalidRequest(
      `thread name must be at most ${MAX_THREAD_NAME_BYTES} bytes (got ${bytes})`,
    );
  }
}

/**
 * A store patch in the state index's vocabulary: the one encoding every store uses before
 * `patchThreadMetadata` (sources as stored, the permission profile as JSON, token usage as its
 * total). Absent fields stay absent.
 */
export function threadRowPatchOf(patch: ThreadMetadataPatch): ThreadRowPatch {
  const { source, permissionProfile, tokenUsage, gitInfo, ...plain } = patch;
  // The other fields share their names and values with the row patch (checked below).
  const row: ThreadRowPatch = { ...plain };
  if (source !== undefined) row.source = encodeSessionSource(source);
  if (permissionProfile !== undefined) row.sandboxPolicy = JSON.stringify(permissionProfile);
  if (tokenUsage !== undefined) row.tokensUsed = tokenUsage.totalTokens;
  if (gitInfo !== undefined) row.git = gitInfo;
  return row;
}

/** Every patch field is encoded above: a field the row patch does not name fails to compile. */
type UnencodedPatchField = Exclude<
  keyof ThreadMetadataPatch,
  keyof ThreadRowPatch | 'source' | 'permissionProfile' | 'tokenUsage' | 'gitInfo'
>;
const everyPatchFieldEncoded: UnencodedPatchField extends never ? true : never = true;
void everyPatchFieldEncoded;
