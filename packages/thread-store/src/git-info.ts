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

async function readStoreGitInfo(cwd: string): Promise<GitInfo | null> {
  const read = await readGitInfo(cwd);
  if (read === null) return null;
  const commitHash = typeof read.commit_hash === 'string' ? read.commit_hash : null;
  const branch = typeof read.branch === 'string' ? read.branch : null;
  const repositoryUrl = typeof read.repository_url === 'string' ? read.repository_url : null;
  if (commitHash === null && branch === null && repositoryUrl === null) return null;
  return { commitHash, branch, repositoryUrl };
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
