import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { GitInfo } from './schema.js';

/*
 * Git facts for `session_meta.git`, read straight from the repository files (no `git`
 * process): commit of HEAD, branch name, and the `origin` URL.
 */

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function findGitDir(start: string): Promise<string | null> {
  let dir = resolve(start);
  for (let i = 0; i < 64; i += 1) {
    const candidate = join(dir, '.git');
    try {
      const info = await stat(candidate);
      if (info.isDirectory()) return candidate;
      const text = await readText(candidate);
      const match = text?.match(/^gitdir:\s*(.+)\s*$/m);
      if (match?.[1]) return isAbsolute(match[1]) ? match[1] : resolve(dir, match[1]);
    } catch {
      // not here; go up
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
}

async function resolveRef(commonDir: string, gitDir: string, ref: string): Promise<string | null> {
  for (const base of [gitDir, commonDir]) {
    const loose = (await readText(join(base, ref)))?.trim();
    if (loose && /^[0-9a-f]{40,64}$/.test(loose)) return loose;
  }
  const packed = await readText(join(commonDir, 'packed-refs'));
  for (const line of packed?.split('\n') ?? []) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && sha && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  return null;
}

function originUrl(config: string | null): string | null {
  if (config === null) return null;
  let inOrigin = false;
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inOrigin = /^\[remote\s+"origin"\]$/.test(line);
      continue;
    }
    const match = inOrigin ? line.match(/^url\s*=\s*(.+)$/) : null;
    if (match?.[1]) return match[1].trim();
  }
  return null;
}

/** The git info of the repository containing `cwd`, or null when it is not in one. */
export async function readGitInfo(cwd: string): Promise<GitInfo | null> {
  const gitDir = await findGitDir(cwd);
  if (gitDir === null) return null;
  const commonText = (await readText(join(gitDir, 'commondir')))?.trim();
  const commonDir = commonText ? resolve(gitDir, commonText) : gitDir;
  const head = (await readText(join(gitDir, 'HEAD')))?.trim() ?? '';
  const info: GitInfo = {};
  const refMatch = head.match(/^ref:\s*(.+)$/);
  if (refMatch?.[1]) {
    const ref = refMatch[1];
    const sha = await resolveRef(commonDir, gitDir, ref);
    if (sha !== null) info.commit_hash = sha;
    if (ref.startsWith('refs/heads/')) info.branch = ref.slice('refs/heads/'.length);
  } else if (/^[0-9a-f]{40,64}$/.test(head)) {
    info.commit_hash = head;
  }
  const url = originUrl(await readText(join(commonDir, 'config')));
  if (url !== null) info.repository_url = url;
  return info;
}
