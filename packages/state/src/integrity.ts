import {
  type BigIntStats,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import * as z from 'zod';
import { settledBefore, wallClockNs } from './racy-stat.js';
import { SIDECAR_FILE_NAME } from './sidecar.js';

/**
 * When a DB is opened, SQLite's `quick_check` proves it intact. The check reads every page
 * (tens of milliseconds on a 10,000-thread home), and a DB nobody wrote since it last passed
 * cannot have become corrupt through SQLite. So the files' signature (inode, size and
 * nanosecond mtime of the DB and of its write-ahead log) is kept in Skein's sidecar after a
 * passing check, and the next open checks again only when the signature differs: any commit,
 * by Codex or Skein, changes the WAL, and any damage written behind SQLite's back changes an
 * mtime. As git does for its index (racy-git), a signature whose newest mtime is not clearly
 * older than the check is not trusted: a write in the same clock tick as the check could keep
 * the size and the coarse mtime. `skein doctor` runs its own full `integrity_check` regardless.
 *
 * The sidecar's own signature cannot be kept inside it (keeping it would change it), so it is
 * kept beside it in a small file, `SIDECAR_CHECK_RECORD`, replaced whole by a rename. On a
 * Codex 0.131 home the sidecar holds a recency row per thread, and checking it took a few
 * milliseconds of every command at 10,000 threads, growing with the home.
 */

/** How long recording a signature may wait on the sidecar (best effort: else check next time). */
const RECORD_BUSY_MS = 50;

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

const TABLE = 'skein_checked_files';

/** Beside the sidecar: the signature the sidecar had at its last passing check. */
export const SIDECAR_CHECK_RECORD = 'skein_1.checked.json';

type CheckRecord = FilesSignature & { checkedAtNs: bigint };

const decimal = z
  .string()
  .regex(/^\d{1,20}$/)
  .transform((text) => BigInt(text));
const checkRecordFile = z.object({
  dev: decimal,
  ino: decimal,
  size: decimal,
  mtimeNs: decimal,
  walSize: decimal,
  walMtimeNs: decimal,
  checkedAtNs: decimal,
});

/** The sidecar's record, if it can be read and parses (anything else: check). */
function recordedSidecarSignature(recordPath: string): CheckRecord | null {
  try {
    const parsed = checkRecordFile.safeParse(JSON.parse(readFileSync(recordPath, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Replaces the sidecar's record (best effort). Written to a file of this process's own and
 * renamed over the record, so a reader never sees half of one; not synced, since a record
 * lost to a power cut only means one more check.
 */
function recordSidecarSignature(recordPath: string, record: CheckRecord): void {
  const text = JSON.stringify(record, (_key, value: unknown) =>
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

/** The signature recorded for `name` after its last passing check, if any. */
function recordedSignature(
  sidecarPath: string,
  name: string,
): (FilesSignature & { checkedAtNs: bigint }) | null {
  let sidecar: Database | undefined;
  try {
    sidecar = new BetterSqlite3(sidecarPath, { readonly: true, fileMustExist: true });
    sidecar.defaultSafeIntegers(true);
    const row = sidecar
      .prepare(
        `select dev, ino, size, mtime_ns, wal_size, wal_mtime_ns, checked_at_ns from ${TABLE} where name = ?`,
      )
      .get(name) as Record<string, bigint> | undefined;
    if (row === undefined) return null;
    return {
      dev: BigInt(row.dev ?? -1n),
      ino: BigInt(row.ino ?? -1n),
      size: BigInt(row.size ?? -1n),
      mtimeNs: BigInt(row.mtime_ns ?? -1n),
      walSize: BigInt(row.wal_size ?? -1n),
      walMtimeNs: BigInt(row.wal_mtime_ns ?? -1n),
      checkedAtNs: BigInt(row.checked_at_ns ?? 0n),
    };
  } catch {
    // No sidecar yet, no table yet, or it is busy or damaged: check.
    return null;
  } finally {
    sidecar?.close();
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

/** Keeps the signature of files that just passed their check (best effort). */
function recordSignature(
  sidecarPath: string,
  name: string,
  signature: FilesSignature,
  checkedAtNs: bigint,
): void {
  // The runtime creates the sidecar (with its own settings): until it exists, check each time.
  if (statSync(sidecarPath, { throwIfNoEntry: false }) === undefined) return;
  let sidecar: Database | undefined;
  try {
    sidecar = new BetterSqlite3(sidecarPath, { fileMustExist: true });
    sidecar.pragma(`busy_timeout = ${RECORD_BUSY_MS}`);
    sidecar.pragma('synchronous = NORMAL');
    sidecar.exec(
      `create table if not exists ${TABLE} (name text primary key, dev integer not null,
         ino integer not null, size integer not null, mtime_ns integer not null,
         wal_size integer not null, wal_mtime_ns integer not null, checked_at_ns integer not null)`,
    );
    sidecar
      .prepare(
        `insert into ${TABLE} (name, dev, ino, size, mtime_ns, wal_size, wal_mtime_ns, checked_at_ns)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (name) do update set dev = excluded.dev, ino = excluded.ino,
           size = excluded.size, mtime_ns = excluded.mtime_ns, wal_size = excluded.wal_size,
           wal_mtime_ns = excluded.wal_mtime_ns, checked_at_ns = excluded.checked_at_ns`,
      )
      .run(
        name,
        signature.dev,
        signature.ino,
        signature.size,
        signature.mtimeNs,
        signature.walSize,
        signature.walMtimeNs,
        checkedAtNs,
      );
  } catch {
    // Busy or read-only: the next open checks again.
  } finally {
    sidecar?.close();
  }
}

/**
 * Proves the DB open on `sqlite` (the file at `path`) intact with `quick_check`, unless its
 * files are exactly as they were at a passing check recorded earlier (see above). Throws an
 * error with code `SQLITE_CORRUPT` when the check fails.
 */
export function verifyIntegrity(sqlite: Database, path: string): void {
  const dir = dirname(path);
  const sidecarPath = join(dir, SIDECAR_FILE_NAME);
  const name = basename(path);
  const sidecarRecordPath = name === SIDECAR_FILE_NAME ? join(dir, SIDECAR_CHECK_RECORD) : null;
  const before = signatureOf(path);
  if (before !== null && before.size > 0n) {
    const recorded =
      sidecarRecordPath === null
        ? recordedSignature(sidecarPath, name)
        : recordedSidecarSignature(sidecarRecordPath);
    let newest = before.mtimeNs;
    if (before.walMtimeNs > newest) newest = before.walMtimeNs;
    if (
      recorded !== null &&
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
  if (after === null || !sameFiles(before, after)) return;
  if (sidecarRecordPath === null) recordSignature(sidecarPath, name, after, checkedAtNs);
  else recordSidecarSignature(sidecarRecordPath, { ...after, checkedAtNs });
}
