import { constants as fsConstants, lstatSync, realpathSync } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { isThreadId, parseFileTimestamp, type ThreadId } from '@skein/protocol';

/*
 * The Codex home layout (spec rollout-state §1): where rollouts live and how they are named.
 */

/** The directory of active rollouts in a home (`sessions/YYYY/MM/DD/`). */
export const SESSIONS_SUBDIR = 'sessions';
/** The directory of archived rollouts in a home (flat). */
export const ARCHIVED_SESSIONS_SUBDIR = 'archived_sessions';
/** The thread name index in a home (`session_index.jsonl`, append-only, the latest line wins). */
export const SESSION_INDEX_FILE = 'session_index.jsonl';
/** Codex 0.169's writers hold `flock(LOCK_EX)` on this 0-byte file around index writes. */
export const SESSION_INDEX_LOCK_FILE = 'session_index.jsonl.lock';
/** Rollout file names start with this (`rollout-<local time>-<thread id>.jsonl`). */
export const ROLLOUT_FILE_PREFIX = 'rollout-';
/** The extension of a plain rollout file. */
export const ROLLOUT_FILE_SUFFIX = '.jsonl';
/** Added to a compressed rollout's name (`.jsonl.zst`). */
export const COMPRESSED_SUFFIX = '.zst';

/** `<home>/sessions`. */
export function sessionsDir(codexHome: string): string {
  return join(codexHome, SESSIONS_SUBDIR);
}

/** `<home>/archived_sessions`. */
export function archivedSessionsDir(codexHome: string): string {
  return join(codexHome, ARCHIVED_SESSIONS_SUBDIR);
}

/** `<home>/session_index.jsonl`. */
export function sessionIndexPath(codexHome: string): string {
  return join(codexHome, SESSION_INDEX_FILE);
}

/** Codex 0.169 holds `flock` on this file while a thread's writer is open. */
export const THREAD_WRITER_LOCKS_SUBDIR = 'thread-writer-locks';

/** Codex 0.169's writer lock of a thread: `<home>/thread-writer-locks/<id>.lock`. */
export function threadWriterLockPath(codexHome: string, threadId: string): string {
  return join(codexHome, THREAD_WRITER_LOCKS_SUBDIR, `${threadId}.lock`);
}

/** The lock Codex 0.169 holds while writing the name index: `<home>/session_index.jsonl.lock`. */
export function sessionIndexLockPath(codexHome: string): string {
  return join(codexHome, SESSION_INDEX_LOCK_FILE);
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** `YYYY-MM-DDThh-mm-ss` in the machine's local time (what Codex puts in file names). */
export function formatLocalFileTimestamp(date: Date): string {
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
  );
}

/** `rollout-<local YYYY-MM-DDThh-mm-ss>-<uuid>.jsonl`. */
export function formatRolloutFileName(threadId: string, createdAt: Date): string {
  return `${ROLLOUT_FILE_PREFIX}${formatLocalFileTimestamp(createdAt)}-${threadId}${ROLLOUT_FILE_SUFFIX}`;
}

/** `<home>/sessions/<local YYYY>/<MM>/<DD>/rollout-<local ts>-<uuid>.jsonl`. */
export function rolloutPathFor(codexHome: string, threadId: string, createdAt: Date): string {
  return join(
    sessionsDir(codexHome),
    pad(createdAt.getFullYear(), 4),
    pad(createdAt.getMonth() + 1),
    pad(createdAt.getDate()),
    formatRolloutFileName(threadId, createdAt),
  );
}

/** What a rollout file name says: thread id, creation time, whether it is compressed. */
export interface ParsedRolloutFileName {
  /** The thread id (the first UUID after the timestamp). */
  threadId: ThreadId;
  /** A second UUID after `_` (revert copies: `<thread_id>_<rollout_id>`), else null. */
  rolloutId: string | null;
  /** The file-name timestamp as written: `YYYY-MM-DDThh-mm-ss` (local time of the writer). */
  timestamp: string;
  /** That timestamp read as UTC, in ms (how Codex sorts; see §4.2). */
  timestampMs: number;
  /** Year, month and day of the file-name timestamp (the `sessions/YYYY/MM/DD` parts). */
  dateParts: [string, string, string];
  compressed: boolean;
}

/** Parses a file name's `YYYY-MM-DDThh-mm-ss` (UTC); the shared vocabulary's, exported here too. */
export { parseFileTimestamp } from '@skein/protocol';

/**
 * Parses a rollout file name (`.zst` allowed). Non-rollout names give null. The id is found by
 * scanning `-` positions from the right until the rest is a UUID (or `<uuid>_<uuid>`), so a
 * file name never has to end with the thread id.
 */
export function parseRolloutFileName(fileName: string): ParsedRolloutFileName | null {
  // A directory entry has no separator: `basename` (a character loop) only for a path.
  let name = fileName.includes('/') || fileName.includes('\\') ? basename(fileName) : fileName;
  const compressed = name.endsWith(COMPRESSED_SUFFIX);
  if (compressed) name = name.slice(0, -COMPRESSED_SUFFIX.length);
  if (!name.startsWith(ROLLOUT_FILE_PREFIX) || !name.endsWith(ROLLOUT_FILE_SUFFIX)) return null;
  const core = name.slice(ROLLOUT_FILE_PREFIX.length, -ROLLOUT_FILE_SUFFIX.length);
  // The timestamp is exactly 19 characters; what follows `-` must be the id part.
  const timestamp = core.slice(0, 19);
  if (core[19] !== '-') return null;
  const rest = core.slice(20);
  let threadId: string;
  let rolloutId: string | null = null;
  if (isThreadId(rest)) {
    threadId = rest;
  } else {
    const underscore = rest.indexOf('_');
    if (underscore < 0) return null;
    const first = rest.slice(0, underscore);
    const second = rest.slice(underscore + 1);
    if (!isThreadId(first) || !isThreadId(second)) return null;
    threadId = first;
    rolloutId = second.toLowerCase();
  }
  const timestampMs = parseFileTimestamp(timestamp);
  if (timestampMs === null) return null;
  return {
    threadId: threadId.toLowerCase() as ThreadId,
    rolloutId,
    timestamp,
    timestampMs,
    dateParts: [timestamp.slice(0, 4), timestamp.slice(5, 7), timestamp.slice(8, 10)],
    compressed,
  };
}

/** The logical (plain `.jsonl`) path of a rollout, whether given the plain or the `.zst` name. */
export function plainRolloutPath(path: string): string {
  return path.endsWith(COMPRESSED_SUFFIX) ? path.slice(0, -COMPRESSED_SUFFIX.length) : path;
}

/** The `.jsonl.zst` path of a rollout path. */
export function compressedRolloutPath(path: string): string {
  return plainRolloutPath(path) + COMPRESSED_SUFFIX;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file that holds a rollout right now: the plain `.jsonl` if it exists (plain wins), else
 * its `.zst` sibling, else null.
 */
export async function resolveRolloutFile(path: string): Promise<string | null> {
  const plain = plainRolloutPath(path);
  if (await exists(plain)) return plain;
  const zst = compressedRolloutPath(path);
  if (await exists(zst)) return zst;
  return null;
}

/** Where an archived rollout returns to on unarchive: `sessions/<YYYY>/<MM>/<DD>/<name>`. */
export function unarchivedPathFor(codexHome: string, fileName: string): string | null {
  const parsed = parseRolloutFileName(fileName);
  if (parsed === null) return null;
  const [y, m, d] = parsed.dateParts;
  return join(sessionsDir(codexHome), y, m, d, basename(plainRolloutPath(fileName)));
}

/** Where a rollout goes on archive: `archived_sessions/<name>` (flat). */
export function archivedPathFor(codexHome: string, fileName: string): string {
  return join(archivedSessionsDir(codexHome), basename(plainRolloutPath(fileName)));
}

/**
 * A cwd as Codex compares and stores it: absolute, and canonical (symlinks resolved) when the
 * directory exists; otherwise just resolved.
 */
export async function normalizeCwd(cwd: string): Promise<string> {
  if (cwd === '') return cwd;
  const absolute = resolve(cwd);
  try {
    return await realpath(absolute);
  } catch {
    return absolute;
  }
}

/**
 * Where a rollout path stored in a DB row lies in *this* home. A row keeps the absolute path
 * its writer saw; after the home was copied or moved, that path names the old home. A path
 * inside the home is returned as is; one elsewhere is re-rooted by its `sessions/…` or
 * `archived_sessions/…` part; anything else is null. Nothing outside the home is ever read or
 * written through a row.
 */
export function rolloutPathInHome(codexHome: string, storedPath: string): string | null {
  const home = codexHome.endsWith('/') ? codexHome.slice(0, -1) : codexHome;
  if (storedPath.startsWith(`${home}/`) && !storedPath.slice(home.length).includes('/../')) {
    return storedPath;
  }
  for (const dir of [ARCHIVED_SESSIONS_SUBDIR, SESSIONS_SUBDIR]) {
    const at = storedPath.lastIndexOf(`/${dir}/`);
    if (at < 0) continue;
    const rest = storedPath.slice(at + 1);
    if (rest.split('/').includes('..')) return null;
    return `${home}/${rest}`;
  }
  return null;
}

/**
 * A place whose files are the home's: what lies under `path`, and `path` itself when it is one
 * of the home's rollout folders (a linked `archived_sessions` holds its files directly).
 */
interface HomeRoot {
  path: string;
  self: boolean;
}

/**
 * Each home's roots as last resolved: the given path, its real path when that differs, and the
 * real paths of its `sessions` and `archived_sessions` folders when those are links (a user who
 * keeps the rollouts on another disk links the folder there).
 */
const homeRoots = new Map<string, readonly HomeRoot[]>();

function resolveHomeRoots(given: string): readonly HomeRoot[] {
  const roots: HomeRoot[] = [{ path: given, self: false }];
  const add = (path: string, self: boolean) => {
    try {
      const real = realpathSync.native(path);
      // A folder linked to the filesystem's root would put every path inside.
      const known = roots.some((root) => real === root.path || isUnder(real, root));
      if (real !== sep && !known) {
        roots.push({ path: real, self });
      }
    } catch {
      // missing: nothing is listed from it
    }
  };
  add(given, false);
  add(sessionsDir(given), true);
  add(archivedSessionsDir(given), true);
  // Bounded: a process lists a handful of homes (tests make many).
  if (homeRoots.size >= 64) homeRoots.clear();
  homeRoots.set(given, roots);
  return roots;
}

/**
 * Whether a real path (links resolved) is the home's: under the home as given or its real
 * path, or in its linked `sessions` / `archived_sessions` folder. Resolved afresh each call
 * (for the single paths the stores and `skein doctor` ask about; a list page asks a
 * `HomeBoundary`, which resolves once).
 */
export function realPathInHome(codexHome: string, real: string): boolean {
  return resolveHomeRoots(resolve(codexHome)).some((root) => isUnder(real, root));
}

function isUnder(real: string, root: HomeRoot): boolean {
  return real.startsWith(`${root.path}${sep}`) || (root.self && real === root.path);
}

/**
 * The home's boundary for links, as lists see it: a rollout that is a symlink, or lies in a
 * linked folder, and leads out of the home is not offered (nothing outside the home a process
 * was given is read through it; the stores refuse such a thread and `skein doctor` reports
 * it). Folders are resolved once per boundary, so a page of rows costs one `lstat` each.
 *
 * The home's own real path is remembered across boundaries (a list page makes one or two, and
 * the `realpath` of the home was a tenth of an index-only page). A real path under the home as
 * given needs none; one under the remembered real path is believed only once the boundary has
 * resolved the home again (a linked home may have been pointed elsewhere since).
 */
export class HomeBoundary {
  readonly #given: string;
  #roots: readonly HomeRoot[];
  #rootsFresh: boolean;
  readonly #folders = new Map<string, boolean>();

  constructor(codexHome: string) {
    this.#given = resolve(codexHome);
    const known = homeRoots.get(this.#given);
    this.#roots = known ?? resolveHomeRoots(this.#given);
    this.#rootsFresh = known === undefined;
  }

  /**
   * Whether a real path (links resolved) lies in the home. Under the home as given, it does:
   * a path without links has none in its prefix either. Under the home's remembered real path,
   * it does only while the home still leads there, so any verdict but that one is taken from
   * roots resolved afresh (once per boundary).
   */
  #inside(real: string): boolean {
    if (real.startsWith(`${this.#given}${sep}`)) return true;
    if (!this.#rootsFresh) {
      this.#roots = resolveHomeRoots(this.#given);
      this.#rootsFresh = true;
    }
    return this.#underRoots(real);
  }

  #underRoots(real: string): boolean {
    return this.#roots.some((root) => isUnder(real, root));
  }

  #folderInside(folder: string): boolean {
    let inside = this.#folders.get(folder);
    if (inside === undefined) {
      try {
        inside = this.#inside(realpathSync.native(folder));
      } catch {
        inside = false;
      }
      this.#folders.set(folder, inside);
    }
    return inside;
  }

  /**
   * Whether a link found in a folder walk (already known to be a symlink) stays inside. A
   * dangling link leads nowhere: it stays, and reads as the missing file it is.
   */
  linkInside(path: string): boolean {
    return this.#linkTarget(path) !== 'outside';
  }

  #linkTarget(path: string): 'inside' | 'outside' | 'dangling' {
    try {
      return this.#inside(realpathSync.native(path)) ? 'inside' : 'outside';
    } catch {
      return 'dangling';
    }
  }

  /**
   * Whether the rollout at `path` (plain, or its `.zst`) exists and really lies inside the
   * home: its folder resolves inside, and it is not a link leading out. `lookup` says what the
   * folder holds under a name (default: an `lstat` of it).
   */
  rolloutInside(path: string, lookup: EntryLookup = lstatEntry): boolean {
    const dir = dirname(path);
    if (!this.#folderInside(dir)) return false;
    const name = basename(path);
    for (const file of [name, name + COMPRESSED_SUFFIX]) {
      const kind = lookup(dir, file);
      if (kind === undefined) continue;
      // A dangling link is a missing file here: nothing to offer.
      return kind === 'link' ? this.#linkTarget(join(dir, file)) === 'inside' : true;
    }
    return false;
  }
}

/** What a directory holds under a name, as `lstat` sees it: a link, something else, nothing. */
export type EntryLookup = (dir: string, name: string) => 'link' | 'other' | undefined;

function lstatEntry(dir: string, name: string): 'link' | 'other' | undefined {
  const entry = lstatSync(join(dir, name), { throwIfNoEntry: false });
  if (entry === undefined) return undefined;
  return entry.isSymbolicLink() ? 'link' : 'other';
}
