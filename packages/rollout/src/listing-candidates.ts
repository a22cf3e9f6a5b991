import { type Dirent, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isAfterThreadCursor, type SortDirection, type ThreadCursor } from '@skein/protocol';
import { type CachedDir, listDir, type NamedRollout } from './dir-cache.js';
import {
  COMPRESSED_SUFFIX,
  HomeBoundary,
  type ParsedRolloutFileName,
  parseRolloutFileName,
} from './layout.js';

/*
 * Candidate discovery for the filesystem listing: which rollout files a page may hold, in
 * (file-name time, id) order, within the scan budget, never through a link out of the home.
 */

export interface Candidate {
  path: string;
  parsed: ParsedRolloutFileName;
  /** Sort timestamp: file-name time (created) or mtime (updated). */
  keyMs: number;
}

/** `a` before `b` in the given direction, by (timestamp, uuid). */
export function compareKeys(
  aMs: number,
  aId: string,
  bMs: number,
  bId: string,
  direction: SortDirection,
): number {
  const primary = aMs - bMs || (aId < bId ? -1 : aId > bId ? 1 : 0);
  return direction === 'asc' ? primary : -primary;
}

export class ScanBudget {
  examined = 0;
  capped = false;
  constructor(readonly limit: number) {}
  take(count: number): number {
    const allowed = Math.max(0, Math.min(count, this.limit - this.examined));
    this.examined += allowed;
    if (allowed < count) this.capped = true;
    return allowed;
  }
}

/**
 * Rollout files of one directory, plain shadowing `.zst`, in ascending (name ts, uuid) order. A
 * link leading out of the home is not a rollout of it (linked folders are not walked at all:
 * their entries are not directories).
 */
function namedRollouts(dir: string, entries: Dirent[], boundary: HomeBoundary): NamedRollout[] {
  const names = new Set(
    entries
      .filter(
        (e) => !e.isDirectory() && (!e.isSymbolicLink() || boundary.linkInside(join(dir, e.name))),
      )
      .map((e) => e.name),
  );
  const out: NamedRollout[] = [];
  for (const name of names) {
    const parsed = parseRolloutFileName(name);
    if (parsed === null) continue;
    if (parsed.compressed && names.has(name.slice(0, -COMPRESSED_SUFFIX.length))) continue;
    out.push({ path: join(dir, name), parsed });
  }
  out.sort((a, b) =>
    compareKeys(
      a.parsed.timestampMs,
      a.parsed.threadId,
      b.parsed.timestampMs,
      b.parsed.threadId,
      'asc',
    ),
  );
  return out;
}

/**
 * Rollout files of one directory listing, plain shadowing `.zst`, in (name ts, uuid) order in
 * the given direction (see `namedRollouts`). Fresh candidates each call: callers set `keyMs`.
 */
function rolloutFilesIn(
  dir: string,
  listed: CachedDir,
  direction: SortDirection,
  boundary: HomeBoundary,
): Candidate[] {
  let rollouts = listed.rollouts;
  if (rollouts === null) {
    rollouts = namedRollouts(dir, listed.entries, boundary);
    if (!listed.entries.some((e) => e.isSymbolicLink())) listed.rollouts = rollouts;
  }
  const out = new Array<Candidate>(rollouts.length);
  const last = rollouts.length - 1;
  for (let i = 0; i <= last; i += 1) {
    const { path, parsed } = rollouts[direction === 'asc' ? i : last - i] as NamedRollout;
    out[i] = { path, parsed, keyMs: parsed.timestampMs };
  }
  return out;
}

export function numericDirs(entries: Dirent[], width: number, direction: SortDirection): string[] {
  const dirs = entries
    .filter((e) => e.isDirectory() && e.name.length === width && /^\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return direction === 'desc' ? dirs.reverse() : dirs;
}

/**
 * Candidates in created-at order: year → month → day directories (skipping days entirely on
 * the wrong side of the cursor), files within a day by (file-name ts, uuid). Given a day
 * folder at a time (a page takes dozens of files, each its own step of the generator cost
 * more than the rest of its listing).
 */
export async function* nestedCandidates(
  root: string,
  direction: SortDirection,
  cursor: ThreadCursor | null,
  budget: ScanBudget,
): AsyncGenerator<Candidate[]> {
  const cursorDay =
    cursor === null ? null : new Date(cursor.timestampMs).toISOString().slice(0, 10);
  const boundary = new HomeBoundary(dirname(root));
  const years = (await listDir(root, true)).entries;
  budget.take(years.length);
  for (const year of numericDirs(years, 4, direction)) {
    if (budget.capped) return;
    const months = (await listDir(join(root, year), false)).entries;
    budget.take(months.length);
    for (const month of numericDirs(months, 2, direction)) {
      if (budget.capped) return;
      const dayEntries = (await listDir(join(root, year, month), false)).entries;
      budget.take(dayEntries.length);
      for (const day of numericDirs(dayEntries, 2, direction)) {
        if (budget.capped) return;
        const date = `${year}-${month}-${day}`;
        if (cursorDay !== null && (direction === 'desc' ? date > cursorDay : date < cursorDay)) {
          continue;
        }
        const dir = join(root, year, month, day);
        const files = rolloutFilesIn(dir, await listDir(dir, false), direction, boundary).filter(
          (c) =>
            cursor === null || isAfterThreadCursor(c.keyMs, c.parsed.threadId, cursor, direction),
        );
        // Only files past the cursor count against the cap, so a huge day directory is
        // still paged through to its end rather than cut at the same spot on every page.
        const allowed = budget.take(files.length);
        if (allowed > 0) yield allowed === files.length ? files : files.slice(0, allowed);
      }
    }
  }
}

export async function flatCandidates(
  root: string,
  direction: SortDirection,
  cursor: ThreadCursor | null,
  budget: ScanBudget,
): Promise<Candidate[]> {
  const boundary = new HomeBoundary(dirname(root));
  const files = rolloutFilesIn(root, await listDir(root, true), direction, boundary).filter(
    (c) => cursor === null || isAfterThreadCursor(c.keyMs, c.parsed.threadId, cursor, direction),
  );
  const allowed = budget.take(files.length);
  return files.slice(0, allowed);
}

export async function allCandidates(
  root: string,
  nested: boolean,
  direction: SortDirection,
  budget: ScanBudget,
): Promise<Candidate[]> {
  if (!nested) return flatCandidates(root, direction, null, budget);
  const out: Candidate[] = [];
  for await (const folder of nestedCandidates(root, direction, null, budget)) {
    for (const candidate of folder) out.push(candidate);
  }
  return out;
}

/** How many files `stampMtimes` stats between two yields to the event loop. */
const MTIME_STAT_SLICE = 1024;

/**
 * Sets each candidate's `keyMs` to its file's mtime (whole ms; 0 when the file cannot be
 * stat'ed). An updated-at listing has to stat every rollout of the home: a write changes a
 * file's mtime and not its folder's. Synchronous stats in slices, with the event loop let run
 * between slices: one promise, one thread-pool round trip and one `Stats` with four `Date`s
 * per file cost ~12 µs a file and most of a page's time in GC (10,000 files: ~120 ms a page),
 * a `statSync` ~2-3 µs.
 */
export async function stampMtimes(candidates: readonly Candidate[]): Promise<void> {
  for (let start = 0; start < candidates.length; start += MTIME_STAT_SLICE) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(candidates.length, start + MTIME_STAT_SLICE);
    for (let index = start; index < end; index += 1) {
      const candidate = candidates[index] as Candidate;
      candidate.keyMs = mtimeMsOf(candidate.path);
    }
  }
}

function mtimeMsOf(path: string): number {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? 0 : Math.floor(stats.mtimeMs);
  } catch {
    return 0;
  }
}
