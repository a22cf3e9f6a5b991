/**
 * Read-only looks into a Codex home's SQLite files (WAL contents included), for tests that
 * check what a process left there: the rows it wrote, the migrations it applied.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type SqlRow = Record<string, unknown>;

/** Runs one query against `<home>/<file>`; no rows when the file does not exist. */
export function queryCodexDb(
  home: string,
  file: string,
  sql: string,
  params: readonly unknown[] = [],
): SqlRow[] {
  const path = join(home, file);
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...params) as SqlRow[];
  } finally {
    db.close();
  }
}

/** The `_sqlx_migrations` versions of a Codex DB, ascending (empty when the file is missing). */
export function migrationVersions(home: string, file = 'state_5.sqlite'): number[] {
  return queryCodexDb(home, file, 'select version from _sqlx_migrations order by version').map(
    (row) => Number(row.version),
  );
}
