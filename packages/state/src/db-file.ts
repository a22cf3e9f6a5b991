import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { replayRecordedSchema } from './create-db.js';
import { StateError } from './errors.js';
import {
  describeIdentity,
  type MigrationRow,
  type RecordedCodexDb,
  type SchemaIdentity,
} from './known-schemas.js';
import { codexThreadsProfile, type ThreadsProfile } from './profile.js';

/*
 * What the state runtime reads and does to a Codex DB file before it has a handle: create the
 * recorded schema in an empty file, read its migration rows, schema cookie and profile, tell
 * corruption, and move a corrupt file aside.
 */

/**
 * Creates the recorded schema in an empty DB file, under one immediate transaction that first
 * checks the file is still empty (another process may have created it meanwhile). Returns
 * whether it created it.
 */
export function createIfEmpty(sqlite: Database, recorded: RecordedCodexDb | undefined): boolean {
  if (!recorded) return false;
  const isEmpty = () =>
    (sqlite.prepare('select count(*) as n from sqlite_master').get() as { n: number }).n === 0;
  if (!isEmpty()) return false;
  return sqlite
    .transaction(() => {
      if (!isEmpty()) return false;
      replayRecordedSchema(sqlite, recorded);
      return true;
    })
    .immediate();
}

/** Single-value statements prepared once per connection, by SQL text. */
const pluckedStatements = new WeakMap<Database, Map<string, Statement<[], unknown>>>();

/**
 * The connection's prepared statement for `sql`, which answers one value: for the small reads
 * asked on every page or `ctx` access (preparing costs more than running them).
 */
export function pluckedStatement(sqlite: Database, sql: string): Statement<[], unknown> {
  let statements = pluckedStatements.get(sqlite);
  if (statements === undefined) {
    statements = new Map();
    pluckedStatements.set(sqlite, statements);
  }
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = sqlite.prepare<[], unknown>(sql).pluck();
    statements.set(sql, statement);
  }
  return statement;
}

/** SQLite's schema cookie, read on every `ctx` access. */
export function schemaVersionOf(sqlite: Database): number {
  return Number(pluckedStatement(sqlite, 'pragma schema_version').get());
}

export function readMigrationRows(sqlite: Database): MigrationRow[] {
  const table = sqlite
    .prepare(`select 1 from sqlite_master where type = 'table' and name = '_sqlx_migrations'`)
    .get();
  if (!table) return [];
  return (
    sqlite
      .prepare(
        'select version, lower(hex(checksum)) as checksum, success from _sqlx_migrations order by version',
      )
      .all() as { version: number; checksum: string; success: number }[]
  ).map((row) => ({
    version: Number(row.version),
    checksum: row.checksum,
    success: !!row.success,
  }));
}

export function readProfile(sqlite: Database, identity: SchemaIdentity): ThreadsProfile {
  const tables = (
    sqlite.prepare(`select name from sqlite_master where type = 'table'`).all() as {
      name: string;
    }[]
  ).map((row) => row.name);
  if (!tables.includes('threads')) {
    throw new StateError('OpenFailed', 'the state DB has no threads table');
  }
  const columns = (sqlite.prepare('pragma table_info(threads)').all() as { name: string }[]).map(
    (row) => row.name,
  );
  const readOnly = identity.kind === 'known' ? null : `its schema is ${describeIdentity(identity)}`;
  return codexThreadsProfile(columns, tables, readOnly);
}

export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'SQLITE_CORRUPT' ||
    code === 'SQLITE_NOTADB' ||
    (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))
  );
}

/** Moves a corrupt DB and its -wal/-shm into `db-backups/sqlite-<unix>-<n>/`. */
export function moveAside(sqliteHome: string, path: string): string {
  const seconds = Math.floor(Date.now() / 1000);
  let target = '';
  for (let n = 0; n < 1000; n += 1) {
    target = join(sqliteHome, 'db-backups', `sqlite-${seconds}-${n}`);
    try {
      mkdirSync(join(sqliteHome, 'db-backups'), { recursive: true });
      mkdirSync(target);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  for (const suffix of ['', '-wal', '-shm']) {
    const from = path + suffix;
    if (existsSync(from)) renameSync(from, join(target, basename(from)));
  }
  return target;
}
