import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Plain words for "this user cannot write here": a home (or a file in it) that is read-only,
 * owned by someone else, or on a read-only file system surfaces from the layers below as
 * `EACCES`/`EPERM`/`EROFS`, SQLite's "attempt to write a readonly database" or "unable to open
 * database file", or a lock file that cannot be opened. This finds the path that cannot be
 * written and says so: `cannot write <path>: permission denied`.
 */

const ACCESS_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);
const ACCESS_TEXT =
  /EACCES|EPERM|EROFS|permission denied|read-only file system|readonly database|unable to open database file|cannot open the lock file|SQLITE_READONLY|SQLITE_CANTOPEN/i;

/** Every error in a `cause` chain (bounded). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let current = error, depth = 0; current != null && depth < 8; depth += 1) {
    out.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

/** Why `path` (or, when it does not exist, its directory) cannot be written; null if it can. */
export function unwritableReason(path: string): string | null {
  const target = existsSync(path) ? path : dirname(path);
  try {
    accessSync(target, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'read-only file system';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return null;
  }
}

/**
 * If `error` comes from a path this user cannot write, `cannot write <path>: <reason>`; else
 * null. `candidates` are paths the operation writes (the home's DB, its name index, the home
 * itself), tried after the paths the error names.
 */
export function describeAccessError(
  error: unknown,
  candidates: readonly string[] = [],
): string | null {
  const errors = chain(error);
  const coded = errors.find(
    (e): e is NodeJS.ErrnoException =>
      typeof (e as { code?: unknown })?.code === 'string' &&
      ACCESS_CODES.has((e as { code: string }).code),
  );
  const text = errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n');
  if (coded === undefined && !ACCESS_TEXT.test(text)) return null;
  const named = [
    ...(coded?.path ? [coded.path] : []),
    ...[...text.matchAll(/(\/[^\s'":,]+)/g)].map((match) => match[1] ?? ''),
  ];
  for (const path of [...named, ...candidates]) {
    if (path === '') continue;
    const reason = unwritableReason(path);
    if (reason !== null) return `cannot write ${path}: ${reason}`;
  }
  if (coded?.path) {
    const reason = coded.code === 'EROFS' ? 'read-only file system' : 'permission denied';
    return `cannot write ${coded.path}: ${reason}`;
  }
  return null;
}
