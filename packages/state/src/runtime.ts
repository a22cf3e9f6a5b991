import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ensureBackfillState } from './backfill-state.js';
import { createStateContext, type StateContext, seedStateClocks } from './context.js';
import { StateError } from './errors.js';
import { migrateStateSchema } from './migrations.js';
import type { StateDatabase } from './schema.js';
import { SqliteThreadSearch } from './sqlite-search.js';
import {
  type BatchUpsertEntry,
  type BatchUpsertOptions,
  SqliteBatchUpserter,
} from './sqlite-upsert.js';

/**
 * Version in the DB file name. Bumped only for a change migrations cannot express (then the
 * next backfill builds the new file from the rollouts); ordinary changes are migrations.
 */
export const STATE_DB_SCHEMA_VERSION = 1;

export function stateDbFileName(version: number = STATE_DB_SCHEMA_VERSION): string {
  return `skein_state_${version}.sqlite`;
}

export function stateDbPath(sqliteHome: string): string {
  return join(sqliteHome, stateDbFileName());
}

/** Codex's own DB files: Skein never opens them (ARCHITECTURE decision 2). */
const CODEX_DB_NAME =
  /^(state|logs|goals|memories|memories_v2|queue|thread_history)(_\d+)?\.sqlite$/;

export interface OpenStateRuntimeOptions {
  /** Directory of the DB file (Codex's `sqlite_home`; defaults to the Codex home upstream). */
  sqliteHome: string;
  /** Provider written where a rollout names none. */
  defaultProvider?: string;
  busyTimeoutMs?: number;
  /** `DELETE` for network file systems where WAL is unsafe. */
  journalMode?: 'WAL' | 'DELETE';
  /** Overrides the file name (tests); Codex's DB names are refused. */
  fileName?: string;
}

interface OpenEntry {
  runtime: Promise<StateRuntime>;
  refs: number;
}

/** One runtime per DB file per process: a second `open` shares the first handle. */
const openRuntimes = new Map<string, OpenEntry>();

/**
 * The state DB handle apps build once and pass down (`StateDb | undefined`). Opens
 * `skein_state_<v>.sqlite` with better-sqlite3 behind Kysely: WAL, `synchronous=NORMAL`, a busy
 * timeout and foreign keys on; checks integrity first (a corrupt file goes to `db-backups/`
 * and a fresh one is made, for the next backfill to fill); migrates; seeds the clocks.
 */
export class StateRuntime {
  /** Where a corrupt predecessor was moved at open, if that happened. */
  readonly recoveredBackupDir: string | null;
  private closed = false;
  private upserter: SqliteBatchUpserter | undefined;

  private constructor(
    readonly path: string,
    readonly sqlite: Database,
    readonly ctx: StateContext,
    recoveredBackupDir: string | null,
    private readonly key: string,
  ) {
    this.recoveredBackupDir = recoveredBackupDir;
  }

  get db(): Kysely<StateDatabase> {
    return this.ctx.db;
  }

  get defaultProvider(): string {
    return this.ctx.defaultProvider;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  static async open(options: OpenStateRuntimeOptions): Promise<StateRuntime> {
    const fileName = options.fileName ?? stateDbFileName();
    if (CODEX_DB_NAME.test(basename(fileName))) {
      throw new StateError('OpenFailed', `refusing to open Codex's own database ${fileName}`);
    }
    const path = resolve(options.sqliteHome, fileName);
    const existing = openRuntimes.get(path);
    if (existing) {
      existing.refs += 1;
      return existing.runtime;
    }
    const runtime = StateRuntime.openFresh(path, options);
    const entry: OpenEntry = { runtime, refs: 1 };
    openRuntimes.set(path, entry);
    try {
      return await runtime;
    } catch (error) {
      openRuntimes.delete(path);
      throw error;
    }
  }

  private static async openFresh(
    path: string,
    options: OpenStateRuntimeOptions,
  ): Promise<StateRuntime> {
    const dir = resolve(options.sqliteHome);
    mkdirSync(dir, { recursive: true });
    let backupDir: string | null = null;
    let sqlite: Database;
    try {
      sqlite = openChecked(path, options);
    } catch (error) {
      if (!isCorruption(error)) {
        throw new StateError('OpenFailed', `cannot open state DB ${path}: ${message(error)}`, {
          cause: error,
        });
      }
      backupDir = moveAside(dir, path);
      sqlite = openChecked(path, options);
    }
    const db = new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
    const search = new SqliteThreadSearch(sqlite);
    const ctx: StateContext = {
      ...createStateContext(db, {
        dialect: 'sqlite',
        ...(options.defaultProvider !== undefined
          ? { defaultProvider: options.defaultProvider }
          : {}),
      }),
      search,
    };
    try {
      await migrateSqlite(sqlite, db);
      await ensureBackfillState(ctx);
      await seedStateClocks(ctx);
    } catch (error) {
      await db.destroy().catch(() => {});
      if (error instanceof StateError) throw error;
      throw new StateError('OpenFailed', `cannot prepare state DB ${path}: ${message(error)}`, {
        cause: error,
      });
    }
    const runtime = new StateRuntime(path, sqlite, ctx, backupDir, path);
    // A completed import never leaves indexes out (a crash between restore and complete would).
    const state = sqlite
      .prepare('select status, deferred_index_sql as s from backfill_state where id = 1')
      .get() as { status: string; s: string | null } | undefined;
    if (state?.status === 'complete' && state.s) runtime.restoreThreadIndexes();
    return runtime;
  }

  /** SQLite bulk upsert in one immediate transaction (see `BatchUpsertOptions`). */
  upsertThreadsBatch(entries: readonly BatchUpsertEntry[], options?: BatchUpsertOptions): number {
    this.assertOpen();
    this.upserter ??= new SqliteBatchUpserter(this.sqlite, this.ctx);
    return this.upserter.upsertMany(entries, options);
  }

  /**
   * For a first import into an empty `threads` table: drops its secondary indexes (SQLite
   * builds them far faster in one pass afterwards than row by row) and records their exact
   * definitions in `backfill_state`, so a run that dies midway leaves them recorded for the
   * next run. Returns whether indexes are (now or still) deferred.
   */
  deferThreadIndexes(): boolean {
    this.assertOpen();
    const run = this.sqlite.transaction((): boolean => {
      const recorded = this.sqlite
        .prepare('select deferred_index_sql as s from backfill_state where id = 1')
        .get() as { s: string | null } | undefined;
      if (recorded?.s) return true;
      const empty = this.sqlite.prepare('select 1 from threads limit 1').get() === undefined;
      if (!empty || !recorded) return false;
      const indexes = this.sqlite
        .prepare(
          `select name, sql from sqlite_master
            where type = 'index' and tbl_name = 'threads' and sql is not null order by name`,
        )
        .all() as { name: string; sql: string }[];
      if (indexes.length === 0) return false;
      // The search index is rebuilt by the first search rather than row by row.
      this.sqlite.prepare('update thread_search_state set ready = 0 where id = 1').run();
      this.sqlite
        .prepare('update backfill_state set deferred_index_sql = ? where id = 1')
        .run(JSON.stringify(indexes.map((index) => index.sql)));
      for (const index of indexes)
        this.sqlite.exec(`drop index "${index.name.replaceAll('"', '""')}"`);
      return true;
    });
    return run.immediate();
  }

  /** Re-creates indexes `deferThreadIndexes` dropped (idempotent). */
  restoreThreadIndexes(): void {
    this.assertOpen();
    const run = this.sqlite.transaction(() => {
      const recorded = this.sqlite
        .prepare('select deferred_index_sql as s from backfill_state where id = 1')
        .get() as { s: string | null } | undefined;
      if (!recorded?.s) return;
      for (const statement of JSON.parse(recorded.s) as string[]) {
        this.sqlite.exec(
          statement.replace(/^create (unique )?index /i, 'CREATE $1INDEX IF NOT EXISTS '),
        );
      }
      this.sqlite.prepare('update backfill_state set deferred_index_sql = null where id = 1').run();
    });
    run.immediate();
  }

  /** Releases this reference; the connection closes when the last holder closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    const entry = openRuntimes.get(this.key);
    if (entry && entry.refs > 1) {
      entry.refs -= 1;
      return;
    }
    this.closed = true;
    openRuntimes.delete(this.key);
    try {
      // Fold the WAL back so the file is self-contained for copies and backups.
      this.sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // another process may hold it; harmless
    }
    await this.ctx.db.destroy();
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('Closed', 'state DB is closed');
  }
}

/** What apps hold and pass down: a ready state DB, or `undefined` for filesystem-only. */
export type StateDb = StateRuntime;

function openChecked(path: string, options: OpenStateRuntimeOptions): Database {
  const sqlite = new BetterSqlite3(path);
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    const check = sqlite.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') {
      throw Object.assign(new Error(`quick_check failed: ${String(check)}`), {
        code: 'SQLITE_CORRUPT',
      });
    }
    const journal = options.journalMode ?? 'WAL';
    if (!existsWal(sqlite, journal)) sqlite.pragma(`journal_mode = ${journal}`);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    return sqlite;
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

function existsWal(sqlite: Database, journal: string): boolean {
  return String(sqlite.pragma('journal_mode', { simple: true })).toUpperCase() === journal;
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'SQLITE_CORRUPT' ||
    code === 'SQLITE_NOTADB' ||
    (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))
  );
}

/** Moves a corrupt DB and its -wal/-shm into `db-backups/sqlite-<unix>-<n>/`. */
function moveAside(sqliteHome: string, path: string): string {
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

/**
 * SQLite runs Kysely migrations outside a transaction (no transactional-DDL flag), so two
 * processes could race the same DDL. One `BEGIN IMMEDIATE` around the run serializes them (the
 * busy timeout makes the second wait) and makes the whole migration atomic.
 */
async function migrateSqlite(sqlite: Database, db: Kysely<StateDatabase>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      sqlite.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY' && attempt < 20) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw error;
    }
    break;
  }
  try {
    await migrateStateSchema(db);
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
