import { readGitInfo } from '@skein/rollout';
import type { GitInfo } from './types.js';

/*
 * Git facts of a thread's working directory, read from the repository files by the rollout
 * package (no `git` process). Creating a thread asks twice (the rollout's session_meta and the
 * LiveThread's first metadata patch): a short-lived per-cwd memo makes that one read.
 */

const RECENT_MS = 2_000;
const MAX_REMEMBERED = 64;
const recent = new Map<string, { atMs: number; info: Promise<GitInfo | null> }>();

/**
 * The git facts of a rollout's `git` object (a session meta's: `commit_hash`, `branch`,
 * `repository_url`), or null when it holds none. Fields that are not strings are unknown.
 */
export function gitInfoFromRolloutGit(git: unknown): GitInfo | null {
  if (git === null || typeof git !== 'object') return null;
  const record = git as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const commitHash = text(record.commit_hash);
  const branch = text(record.branch);
  const repositoryUrl = text(record.repository_url);
  if (commitHash === null && branch === null && repositoryUrl === null) return null;
  return { commitHash, branch, repositoryUrl };
}

async function readStoreGitInfo(cwd: string): Promise<GitInfo | null> {
  return gitInfoFromRolloutGit(await readGitInfo(cwd));
}

/**
 * Git facts of a working directory (commit, branch, origin URL), or null when it is not inside
 * a git repository. Never throws.
 */
export function collectGitInfo(cwd: string): Promise<GitInfo | null> {
  if (cwd === '') return Promise.resolve(null);
  const now = Date.now();
  const hit = recent.get(cwd);
  if (hit !== undefined && now - hit.atMs < RECENT_MS) return hit.info;
  const info = readStoreGitInfo(cwd).catch(() => null);
  recent.delete(cwd);
  recent.set(cwd, { atMs: now, info });
  if (recent.size > MAX_REMEMBERED) {
    const oldest = recent.keys().next().value;
    if (oldest !== undefined) recent.delete(oldest);
  }
  return info;
}
