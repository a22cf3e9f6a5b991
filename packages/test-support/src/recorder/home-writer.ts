/**
 * Copies the thread payload of a finished temporary home into the output folder with every
 * occurrence of the temporary root replaced by the placeholder root (same length, so sizes and
 * the byte offsets the history DB stores stay right), SQLite write-ahead logs folded in, and the
 * files' modification times kept.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import type { RecordingState, TranscriptEntry } from './recording-state.js';

/**
 * Where recorded homes pretend to have lived. The recorder's temporary root has the same
 * length, so swapping one for the other moves no byte.
 */
export const PLACEHOLDER_ROOT = '/home/dev';
export const PLACEHOLDER_HOME = `${PLACEHOLDER_ROOT}/.codex`;

export const PAYLOAD_DATABASES = ['state_5.sqlite', 'thread_history_1.sqlite'] as const;

export interface WrittenHome {
  outDir: string;
  files: Record<string, { size: number; sha256: string }>;
  mtimes: Record<string, number>;
  skippedHomeFiles: string[];
  problems: string[];
}

/** Is this home-relative path part of what a thread store reads? */
export function isPayload(rel: string): boolean {
  if (rel === 'session_index.jsonl') return true;
  if ((PAYLOAD_DATABASES as readonly string[]).includes(rel)) return true;
  return (
    (rel.startsWith('sessions/') || rel.startsWith('archived_sessions/')) && rel.endsWith('.jsonl')
  );
}

/** Every file under `dir`, as sorted paths relative to it. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Opens a database read-write (so closing removes the -wal/-shm a reader creates). */
export function withDatabase<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

/** Folds the write-ahead log into the main file; SQLite removes -wal/-shm on the last close. */
export function checkpoint(path: string): void {
  if (!existsSync(path)) return;
  withDatabase(path, (db) => {
    db.pragma('wal_checkpoint(TRUNCATE)');
  });
}

function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): Buffer {
  if (from.length !== to.length) throw new Error('path rewrite must keep lengths');
  const out = Buffer.from(buffer);
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + from.length)) {
    to.copy(out, at);
  }
  return out;
}

/** Rewrites the root in every TEXT value of every table. */
function rewriteDatabase(path: string, root: string): void {
  withDatabase(path, (db) => {
    // Overwritten values must not survive in free pages.
    db.pragma('secure_delete = ON');
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    db.transaction(() => {
      for (const { name } of tables) {
        const columns = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as {
          name: string;
        }[];
        for (const column of columns) {
          const col = quote(column.name);
          db.prepare(
            `UPDATE ${quote(name)} SET ${col} = replace(${col}, ?, ?)
              WHERE typeof(${col}) = 'text' AND instr(${col}, ?) > 0`,
          ).run(root, PLACEHOLDER_ROOT, root);
        }
      }
    })();
    // Pages keep stale bytes of rows Codex rewrote (upserts) in their free space, temp paths
    // among them. VACUUM copies the live rows into fresh pages, in rowid order.
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  });
}

/** Does any TEXT value of any table contain `needle`? */
export function databaseHolds(path: string, needle: string): boolean {
  return withDatabase(path, (db) => {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    for (const { name } of tables) {
      const columns = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as { name: string }[];
      for (const column of columns) {
        const col = quote(column.name);
        const hit = db
          .prepare(
            `SELECT 1 FROM ${quote(name)} WHERE typeof(${col}) = 'text' AND instr(${col}, ?) > 0 LIMIT 1`,
          )
          .get(needle);
        if (hit) return true;
      }
    }
    return false;
  });
}

/** ms since the epoch as the manifest keeps it; utimes gets half a microsecond more. */
function setMtime(path: string, ms: number): void {
  const seconds = ms / 1000 + 5e-7;
  utimesSync(path, seconds, seconds);
}

export function normalizeText(text: string, root: string): string {
  return text.replaceAll(root, PLACEHOLDER_ROOT);
}

/** Writes the payload, the transcript and nothing else into `outDir` (replaced if present). */
export function writeRecordedHome(state: RecordingState, outDir: string): WrittenHome {
  const { codexHome, root } = state;
  const problems: string[] = [];
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const name of PAYLOAD_DATABASES) checkpoint(join(codexHome, name));

  const all = listFiles(codexHome);
  const skipped = new Set<string>();
  const rootBytes = Buffer.from(root);
  const placeholderBytes = Buffer.from(PLACEHOLDER_ROOT);
  const mtimes: Record<string, number> = {};
  for (const rel of all) {
    if (!isPayload(rel)) {
      // Folders of many files Codex installs or snapshots are listed once.
      const folder = ['skills/', 'shell_snapshots/', 'thread-writer-locks/', 'log/'].find((f) =>
        rel.startsWith(f),
      );
      skipped.add(folder ? `${folder}**` : rel);
      continue;
    }
    const from = join(codexHome, rel);
    const to = join(outDir, rel);
    mkdirSync(dirname(to), { recursive: true });
    const mtime = Math.floor(statSync(from).mtimeMs);
    if (rel.endsWith('.sqlite')) {
      copyFileSync(from, to);
      rewriteDatabase(to, root);
    } else {
      writeFileSync(to, replaceAll(readFileSync(from), rootBytes, placeholderBytes));
    }
    setMtime(to, mtime);
    mtimes[rel] = mtime;
  }

  const files: WrittenHome['files'] = {};
  for (const rel of listFiles(outDir)) {
    const bytes = readFileSync(join(outDir, rel));
    const leak =
      bytes.includes(rootBytes) ||
      (rel.endsWith('.sqlite') && databaseHolds(join(outDir, rel), root));
    if (leak) problems.push(`${rel} still holds the temporary root`);
    if (rel.endsWith('-wal') || rel.endsWith('-shm')) {
      problems.push(`${rel}: SQLite side file left behind`);
      continue;
    }
    files[rel] = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  writeTranscript(state.transcript, join(outDir, 'transcript.jsonl'), root);
  return { outDir, files, mtimes, skippedHomeFiles: [...skipped].sort(), problems };
}

function writeTranscript(entries: TranscriptEntry[], path: string, root: string): void {
  const lines = entries.map((entry) => normalizeText(JSON.stringify(entry), root));
  writeFileSync(path, `${lines.join('\n')}\n`);
}
