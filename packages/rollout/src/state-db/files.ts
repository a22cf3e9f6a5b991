import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import {
  ARCHIVED_SESSIONS_SUBDIR,
  COMPRESSED_SUFFIX,
  HomeBoundary,
  SESSIONS_SUBDIR,
} from '../layout.js';
import { type RolloutFileTable, RolloutFileTableBuilder } from './file-table.js';

/** One rollout file the backfill imports. */
export interface BackfillFile {
  /** The file to read (plain, or `.zst` when only that exists). */
  path: string;
  /** The logical plain `.jsonl` path stored in the DB. */
  rolloutPath: string;
  /** Home-relative plain path with `/`: the resume watermark and the processing order. */
  watermark: string;
  archived: boolean;
  /** Bytes on disk (0 unless sizes were asked for). */
  size: number;
}

const MAX_DEPTH = 8;

function isRolloutName(name: string): boolean {
  const plain = name.endsWith(COMPRESSED_SUFFIX) ? name.slice(0, -COMPRESSED_SUFFIX.length) : name;
  return plain.startsWith('rollout-') && plain.endsWith('.jsonl');
}

/**
 * Every rollout under `sessions/` and `archived_sessions/`, at any depth (backfill does not
 * care about the date layout), plain shadowing `.zst`, sorted by watermark.
 */
export function collectRolloutFiles(
  codexHome: string,
  withSizes = false,
  /** Doctor's walk keeps them, to report each one; every other reader leaves them out. */
  keepLinksOutside = false,
): BackfillFile[] {
  const table = collectRolloutFileTable(codexHome, withSizes, keepLinksOutside);
  const out: BackfillFile[] = new Array(table.length);
  for (let i = 0; i < table.length; i += 1) {
    out[i] = { ...table.file(i), watermark: table.watermark(i), size: table.size(i) };
  }
  return out;
}

/** `collectRolloutFiles` packed: what a big import keeps in memory while it runs. */
export function collectRolloutFileTable(
  codexHome: string,
  withSizes = false,
  keepLinksOutside = false,
): RolloutFileTable {
  const home = resolve(codexHome);
  const boundary = new HomeBoundary(home);
  // `join` gives the home's own form (a root home has its separator already).
  const prefix = home.endsWith(sep) ? home : `${home}${sep}`;
  const table = new RolloutFileTableBuilder(prefix, sep, COMPRESSED_SUFFIX);
  /*
   * Watermark order without sorting the whole list: each directory's entries are visited in
   * the order of their keys (a file's plain name, a folder's name + `/`), and everything under
   * a folder is contiguous in the global order, so the walk adds files already sorted.
   */
  const walk = (dir: string, relDir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // missing or unreadable directory: nothing to import there
    }
    const names = new Set<string>();
    for (const entry of entries) if (!entry.isDirectory()) names.add(entry.name);
    const visits: WalkEntry[] = [];
    for (const entry of entries) {
      // Plain concatenation: `dir` is already normalized and entry names have no separator.
      const full = `${dir}${sep}${entry.name}`;
      if (entry.isDirectory()) {
        if (depth < MAX_DEPTH) visits.push({ key: `${entry.name}/`, full, folder: true });
        continue;
      }
      if (!isRolloutName(entry.name)) continue;
      // A link leading out of the home is not one of its rollouts (linked folders are not
      // walked: their entries are not directories).
      if (!keepLinksOutside && entry.isSymbolicLink() && !boundary.linkInside(full)) continue;
      const compressed = entry.name.endsWith(COMPRESSED_SUFFIX);
      const plainName = compressed ? entry.name.slice(0, -COMPRESSED_SUFFIX.length) : entry.name;
      if (compressed && names.has(plainName)) continue;
      visits.push({ key: plainName, full, folder: false, compressed });
    }
    visits.sort(byKey);
    for (const visit of visits) {
      if (visit.folder) {
        walk(visit.full, `${relDir}/${visit.key.slice(0, -1)}`, depth + 1);
        continue;
      }
      let size = 0;
      if (withSizes) {
        try {
          size = statSync(visit.full).size;
        } catch {
          continue; // vanished while we looked
        }
      }
      table.add(`${relDir}/${visit.key}`, visit.compressed === true, size);
    }
  };
  const roots = [SESSIONS_SUBDIR, ARCHIVED_SESSIONS_SUBDIR].map((name) => ({
    key: `${name}/`,
    full: join(home, name),
    folder: true,
  }));
  for (const root of roots.sort(byKey)) walk(root.full, root.key.slice(0, -1), 0);
  return table.build();
}

/** An entry of one directory, as the walk visits it. */
interface WalkEntry {
  /** Its place in watermark order within the directory. */
  key: string;
  full: string;
  folder: boolean;
  compressed?: boolean;
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Canonical cwd (symlinks resolved when the directory exists), cached per run. */
export class CwdNormalizer {
  private readonly cache = new Map<string, string>();

  normalize(cwd: string): string {
    if (!isAbsolute(cwd)) return cwd; // relative (or empty): nothing to anchor it to
    let out = this.cache.get(cwd);
    if (out === undefined) {
      const absolute = resolve(cwd);
      try {
        out = realpathSync.native(absolute);
      } catch {
        out = absolute;
      }
      this.cache.set(cwd, out);
    }
    return out;
  }
}
