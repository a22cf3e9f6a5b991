import {
  type BigIntStats,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import * as z from 'zod';
import { settledBefore, wallClockNs } from './racy-stat.js';

/**
 * When a DB is opened, SQLite's `quick_check` proves it intact. The check reads every page
 * (tens of milliseconds on a 10,000-thread home), and a DB nobody wrote since it last passed
 * cannot have become corrupt through SQLite. So the files' signature (inode, size and
 * nanosecond mtime of the DB and of its write-ahead log) is kept after a passing check, and the
 * next open checks again only when the signature differs: any commit, by Codex or Skein,
 * changes the WAL, and any damage written behind SQLite's back changes an mtime. As git does
 * for its index (racy-git), a signature whose newest mtime is not clearly older than the check
 * is not trusted: a write in the same clock tick as the check could keep the size and the
 * coarse mtime. `skein doctor` runs its own full `integrity_check` regardless.
 *
 * The signatures of every DB in the directory (Codex's and Skein's sidecar alike) are kept in
 * one small file beside them, `CHECK_RECORD_FILE`, replaced whole by a rename: not in a DB,
 * where keeping the sidecar's own would change it, and keeping Codex's would write the sidecar
 * and so make it need a check of its own at the next open.
 */

interface FilesSignature {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  /** 0 when there is no WAL or it is empty (nothing in it to read). */
  walSize: bigint;
  walMtimeNs: bigint;
}

function signatureOf(path: string): FilesSignature | null {
  const db = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (db === undefined) return null;
  const wal: BigIntStats | undefined = statSync(`${path}-wal`, {
    bigint: true,
    throwIfNoEntry: false,
  });
  const walSize = wal?.size ?? 0n;
  return {
    dev: db.dev,
    ino: db.ino,
    size: db.size,
    mtimeNs: db.mtimeNs,
    walSize,
    walMtimeNs: walSize > 0n && wal !== undefined ? wal.mtimeNs : 0n,
  };
}

/** Beside the DBs: each DB file's signature at its last passing check, by file name. */
export const CHECK_RECORD_FILE = 'skein_1.checked.json';

type CheckRecord = FilesSignature & { checkedAtNs: bigint };

const decimal = z
  .string()
  .regex(/^\d{1,20}$/)
  .transform((text) => BigInt(text));
const checkRecordsFile = z.record(
  z.string(),
  z.object({
    dev: decimal,
    ino: decimal,
    size: decimal,
    mtimeNs: decimal,
    walSize: decimal,
    walMtimeNs: decimal,
    checkedAtNs: decimal,
  }),
);

/** The records, if the file can be read and parses (anything else: none, so every DB is checked). */
function readCheckRecords(recordPath: string): Record<string, CheckRecord> {
  try {
    const parsed = checkRecordsFile.safeParse(JSON.parse(readFileSync(recordPath, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function sameFiles(a: FilesSignature, b: FilesSignature): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.walSize === b.walSize &&
    a.walMtimeNs === b.walMtimeNs
  );
}

/**
 * Keeps the signature of a file that just passed its check (best effort). Written to a file of
 * this process's own and renamed over the records, so a reader never sees half of them; not
 * synced, since records lost to a power cut (or to another process replacing the file at the
 * same moment) only mean one more check.
 */
function recordSignature(recordPath: string, name: string, record: CheckRecord): void {
  const records = readCheckRecords(recordPath);
  records[name] = record;
  const text = JSON.stringify(records, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  const temp = `${recordPath}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${text}\n`);
    renameSync(temp, recordPath);
  } catch {
    // A read-only home: the next open checks again.
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/**
 * Proves the DB open on `sqlite` (the file at `path`) intact with `quick_check`, unless its
 * files are exactly as they were at a passing check recorded earlier (see above). Throws an
 * error with code `SQLITE_CORRUPT` when the check fails.
 */
export function verifyIntegrity(sqlite: Database, path: string): void {
  const recordPath = join(dirname(path), CHECK_RECORD_FILE);
  const name = basename(path);
  const before = signatureOf(path);
  if (before !== null && before.size > 0n) {
    const recorded = readCheckRecords(recordPath)[name];
    let newest = before.mtimeNs;
    if (before.walMtimeNs > newest) newest = before.walMtimeNs;
    if (
      recorded !== undefined &&
      sameFiles(recorded, before) &&
      settledBefore(newest, recorded.checkedAtNs)
    ) {
      return;
    }
  }
  const checkedAtNs = wallClockNs();
  const check = sqlite.pragma('quick_check(1)', { simple: true });
  if (check !== 'ok') {
    throw Object.assign(new Error(`quick_check of ${name} failed: ${String(check)}`), {
      code: 'SQLITE_CORRUPT',
    });
  }
  if (before === null || before.size === 0n) return;
  // Recorded only when nothing changed while the check ran (another writer may be busy).
  const after = signatureOf(path);
  if (after !== null && sameFiles(before, after)) {
    recordSignature(recordPath, name, { ...after, checkedAtNs });
  }
}
