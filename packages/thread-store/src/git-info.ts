import { execFile } from 'node:child_process';
import type { GitInfo } from './types.js';

const GIT_TIMEOUT_MS = 5_000;

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        windowsHide: true,
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
      },
      (error, stdout) => {
        if (error) resolve(null);
        else {
          const text = stdout.trim();
          resolve(text === '' ? null : text);
        }
      },
    );
  });
}

/**
 * Git facts of a working directory (commit, branch, origin URL), or null when it is not inside
 * a git work tree or git is missing. Each probe is bounded by a timeout.
 */
export async function collectGitInfo(cwd: string): Promise<GitInfo | null> {
  if (cwd === '') return null;
  const inside = await git(cwd, ['rev-parse', '--is-inside-work-tree']);
  if (inside !== 'true') return null;
  const [commitHash, branchName, repositoryUrl] = await Promise.all([
    git(cwd, ['rev-parse', 'HEAD']),
    git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']),
    git(cwd, ['remote', 'get-url', 'origin']),
  ]);
  const branch = branchName === 'HEAD' ? null : branchName;
  if (commitHash === null && branch === null && repositoryUrl === null) return null;
  return { commitHash, branch, repositoryUrl };
}
