import { type Dirent, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { wallClockNs } from '@skein/state';
import { errnoCode, RolloutError } from './errors.js';
import {
  type StatSignature,
  sameSignature,
  statSignature,
  vouchesForRead,
  WeightedLru,
} from './file-signature.js';
import type { ParsedRolloutFileName } from './layout.js';

/** A rollout file of a directory listing: its path and what its name says. */
export interface NamedRollout {
  path: string;
  parsed: ParsedRolloutFileName;
}

/** A directory as read: its entries, and what lists derive from them (computed at first use). */
export interface CachedDir {
  entries: Dirent[];
  /** The rollouts among the entries (the listing's; never kept for a dir with links). */
  rollouts: NamedRollout[] | null;
  /** Entries by name, for lookups of one file. */
  byName: Map<string, Dirent> | null;
  /** Rollout file names by thread id (the plain file over its `.zst`), for finds by id. */
  rolloutsById: Map<string, string> | null;
}

/** A directory's entries; none for a missing one (or a file where a subdirectory was expected). */
export async function readDirSafe(dir: string, root: boolean): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    return noEntriesOrThrow(error, dir, root);
  }
}

/** `readDirSafe`'s rule for a failed read: no entries when nothing is there, else the error. */
function noEntriesOrThrow(error: unknown, dir: string, root: boolean): Dirent[] {
  const code = errnoCode(error);
  if (code === 'ENOENT' || (!root && code === 'ENOTDIR')) return [];
  throw new RolloutError('Io', `cannot read directory ${dir}`, { cause: error });
}

/**
 * Directories of the session trees as read earlier, reused while the directory is exactly as it
 * was: one `stat` instead of a `readdir` (a thread-pool round trip, or a synchronous call) and
 * parsing every name. Adding, removing or renaming an entry changes the directory's times; the
 * racy-stat rule keeps out directories changed too recently for that to show. Only what the
 * directory itself records is reused: where a link in it leads is resolved afresh each time.
 */
const dirCache = new WeightedLru<{ signature: StatSignature; listed: CachedDir }>(
  4 * 1024 * 1024,
  2048,
);

function weightOf(entries: readonly Dirent[]): number {
  return 64 + entries.reduce((sum, e) => sum + 2 * e.name.length + 64, 0);
}

function cachedWhileUnchanged(dir: string): {
  signature: StatSignature | null;
  hit: CachedDir | null;
} {
  const signature = statSignature(dir);
  const cached = dirCache.get(dir);
  if (cached !== undefined && signature !== null && sameSignature(cached.signature, signature)) {
    return { signature, hit: cached.listed };
  }
  return { signature, hit: null };
}

function remember(
  dir: string,
  signature: StatSignature | null,
  readAtNs: bigint,
  entries: Dirent[],
): CachedDir {
  const listed: CachedDir = { entries, rollouts: null, byName: null, rolloutsById: null };
  if (signature !== null && vouchesForRead(signature, readAtNs)) {
    dirCache.set(dir, { signature, listed }, weightOf(entries));
  } else {
    dirCache.delete(dir);
  }
  return listed;
}

/** A directory's entries (see `readDirSafe`), from the cache while it is unchanged. */
export async function listDir(dir: string, root: boolean): Promise<CachedDir> {
  const readAtNs = wallClockNs();
  const { signature, hit } = cachedWhileUnchanged(dir);
  if (hit !== null) return hit;
  return remember(dir, signature, readAtNs, await readDirSafe(dir, root));
}

/**
 * The same, read synchronously (for a page's worth of lookups, cheaper than scheduling reads):
 * a missing directory, or a path that is not one, lists as empty.
 */
export function listDirSync(dir: string): CachedDir {
  const readAtNs = wallClockNs();
  const { signature, hit } = cachedWhileUnchanged(dir);
  if (hit !== null) return hit;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    entries = noEntriesOrThrow(error, dir, false);
  }
  return remember(dir, signature, readAtNs, entries);
}

/** The entry named `name` in a listing, if any. */
export function entryNamed(listed: CachedDir, name: string): Dirent | undefined {
  listed.byName ??= new Map(listed.entries.map((entry) => [entry.name, entry]));
  return listed.byName.get(name);
}

/**
 * A lookup of what folders hold under a name, for one page of rows: each folder's listing comes
 * from the cache while the folder is unchanged, and is looked at once per page (one `stat` of
 * the folder for all its rows, instead of an `lstat` per row).
 */
export function pageEntryLookup(): (dir: string, name: string) => 'link' | 'other' | undefined {
  const seen = new Map<string, CachedDir>();
  return (dir, name) => {
    let listed = seen.get(dir);
    if (listed === undefined) {
      listed = listDirSync(dir);
      seen.set(dir, listed);
    }
    const entry = entryNamed(listed, name);
    if (entry === undefined) return undefined;
    return entry.isSymbolicLink() ? 'link' : 'other';
  };
}
