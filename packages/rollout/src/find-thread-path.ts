import { join } from 'node:path';
import { isThreadId } from '@skein/protocol';
import { type CachedDir, listDir } from './dir-cache.js';
import {
  archivedSessionsDir,
  COMPRESSED_SUFFIX,
  parseRolloutFileName,
  plainRolloutPath,
  sessionsDir,
} from './layout.js';

/*
 * Lookup of a thread's rollout by id, from the file names alone (spec rollout-state §4.6). Kept
 * apart from the listing, which needs the session index: the index needs this lookup.
 */

/** `findThreadPath`'s options: whether archived threads count, and the id's file name parts. */
export interface FindThreadPathOptions {
  /** true: only `archived_sessions/`; false: only `sessions/`; undefined: active, then archived. */
  archived?: boolean | undefined;
}

/** Local-time day directories a UUIDv7's creation time may have been filed under. */
function likelyDayDirs(root: string, id: string): string[] {
  if (id[14] !== '7') return [];
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  if (!Number.isFinite(ms) || ms <= 0) return [];
  const dirs: string[] = [];
  for (const offset of [0, -86_400_000, 86_400_000]) {
    const d = new Date(ms + offset);
    dirs.push(
      join(
        root,
        String(d.getFullYear()).padStart(4, '0'),
        String(d.getMonth() + 1).padStart(2, '0'),
        String(d.getDate()).padStart(2, '0'),
      ),
    );
  }
  return dirs;
}

/**
 * The rollout of thread `id` in a directory listing: its plain file, else its `.zst`. The
 * listing's names are parsed once per listing (kept with it while the directory is unchanged).
 */
function matchIn(dir: string, listed: CachedDir, id: string): string | null {
  let byId = listed.rolloutsById;
  if (byId === null) {
    byId = new Map();
    for (const entry of listed.entries) {
      if (entry.isDirectory()) continue;
      const parsed = parseRolloutFileName(entry.name);
      if (parsed === null) continue;
      const known = byId.get(parsed.threadId);
      if (known === undefined || (known.endsWith(COMPRESSED_SUFFIX) && !parsed.compressed)) {
        byId.set(parsed.threadId, entry.name);
      }
    }
    listed.rolloutsById = byId;
  }
  const name = byId.get(id);
  return name === undefined ? null : join(dir, name);
}

async function searchTree(root: string, id: string, depth = 0): Promise<string | null> {
  if (depth > 6) return null;
  const listed = await listDir(root, depth === 0);
  const here = matchIn(root, listed, id);
  if (here !== null) return here;
  const dirs = listed.entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .reverse();
  for (const name of dirs) {
    const found = await searchTree(join(root, name), id, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

async function findIn(root: string, id: string, nested: boolean): Promise<string | null> {
  if (nested) {
    for (const dir of likelyDayDirs(root, id)) {
      const hit = matchIn(dir, await listDir(dir, false), id);
      if (hit !== null) return hit;
    }
  }
  return searchTree(root, id);
}

/**
 * The rollout file of a thread, found by file name: `sessions/` (trying the day directories a
 * UUIDv7 points at first, then the whole tree) and/or `archived_sessions/`. Returns the plain
 * path, or the `.zst` one when only that exists; null when absent or `threadId` is no UUID.
 */
export async function findThreadPath(
  codexHome: string,
  threadId: string,
  options: FindThreadPathOptions = {},
): Promise<string | null> {
  if (!isThreadId(threadId)) return null;
  const id = threadId.toLowerCase();
  if (options.archived !== true) {
    const active = await findIn(sessionsDir(codexHome), id, true);
    if (active !== null) return active;
  }
  if (options.archived !== false) {
    return findIn(archivedSessionsDir(codexHome), id, false);
  }
  return null;
}

/** Whether a rollout path lies under `archived_sessions/` of the home. */
export function isArchivedRolloutPath(codexHome: string, path: string): boolean {
  return plainRolloutPath(path).startsWith(`${archivedSessionsDir(codexHome)}/`);
}
