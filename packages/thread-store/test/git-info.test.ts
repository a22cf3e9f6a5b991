import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { collectGitInfo } from '../src/index.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  }).trim();
}

describe('collectGitInfo (repository files, no git process)', () => {
  it('agrees with git on commit, branch and origin, from a subdirectory', async () => {
    const repo = makeTempDir();
    git(repo, 'init', '-q', '-b', 'feature/x');
    git(repo, 'remote', 'add', 'origin', 'https://example.com/skein.git');
    writeFileSync(join(repo, 'a.txt'), 'a');
    git(repo, 'add', 'a.txt');
    git(repo, 'commit', '-q', '-m', 'one');
    const sub = join(repo, 'deep', 'er');
    mkdirSync(sub, { recursive: true });
    expect(await collectGitInfo(sub)).toEqual({
      commitHash: git(repo, 'rev-parse', 'HEAD'),
      branch: 'feature/x',
      repositoryUrl: 'https://example.com/skein.git',
    });
  });

  it('is null outside a repository and for an empty cwd', async () => {
    expect(await collectGitInfo(makeTempDir())).toBeNull();
    expect(await collectGitInfo('')).toBeNull();
  });
});
