import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Kysely, SqliteDialect, WithSchemaPlugin } from 'kysely';
import { ensureBackfillState } from './backfill-state.js';
import { BulkThreadImport } from './bulk-import.js';
import { allowDirectReads } from './compiled-shapes.js';
import { createStateContext, type StateContext, seedStateClocks } from './context.js';
import {
  createIfEmpty,
  isCorruption,
  moveAside,
  readMigrationRows,
  readProfile,
  schemaVersionOf,
} from './db-file.js';
import { errorMessage, StateError } from './errors.js';
import { HistoryDb } from './history-db.js';
import { verifyIntegrity } from './integrity.js';
import {
  CODEX_HISTORY_DB_FILE,
  CODEX_STATE_DB_FILE,
  describeIdentity,
  identifySchema,
  KNOWN_HISTORY_SCHEMAS,
  KNOWN_STATE_SCHEMAS,
  type RecordedCodexDb,
  type SchemaIdentity,
} from './known-schemas.js';
import type { ThreadsProfile } from './profile.js';
import type { StateDatabase } from './schema.js';
import { attachSidecarStandIns } from './sidecar/attach.js';
import { migrateSidecar } from './sidecar/migrate.js';
import { SIDECAR_SCHEMA } from './sidecar/recency.js';
import { SIDECAR_FILE_NAME, type SidecarDatabase } from './sidecar.js';
import {
  type BatchUpsertEntry,
  type BatchUpsertOptions,
  SqliteBatchUpserter,
} from './sqlite-upsert.js';
import { withStatementCache } from './statement-cache.js';
import { assertWritable } from './threads/write.js';

/** The state DB's file name in a home (`state_5.sqlite`). */
export function stateDbFileName(): string {
  return CODEX_STATE_DB_FILE;
}

/** Codex's state DB in a Codex home (`sqlite_home`, which defaults to the home). */
export function stateDbPath(sqliteHome: string): string {
  return join(sqliteHome, CODEX_STATE_DB_FILE);
}

/**
 * How `StateRuntime.open` opens a home's DBs: the directory, the default provider, SQLite's busy
 * timeout and journal mode, and which recorded Codex schema a home without a DB gets.
 */
export interface OpenStateRuntimeOptions {
  /** Directory of the DB files (Codex's `sqlite_home`; the Codex home by default). */
  sqliteHome: string;
  /** Provider written where a rollout names none. */
  defaultProvider?: string;
  busyTimeoutMs?: number;
  /** `DELETE` for network file systems where WAL is unsafe. */
  journalMode?: 'WAL' | 'DELETE';
  /**
   * The Codex schema to create when the home has no state DB. Default: 0.169's when the home
   * has a `thread_history_1.sqlite` (a 0.169 home that lost its state DB), else the oldest
   * known (0.131's), which every known Codex opens and newer ones migrate forward.
   */
  createSchema?: string;
}

interface OpenEntry {
  runtime: Promise<StateRuntime>;
  refs: number;
}

/** One runtime per DB file per process: a second `open` shares the first handle. */
const openRuntimes = new Map<string, OpenEntry>();

/**
 * The state handle apps build once and pass down (`StateDb | undefined`): Codex's own
 * `state_5.sqlite` in the home, opened as a peer process (ARCHITECTURE decision 2) — WAL,
 * `synchronous=NORMAL`, a busy timeout and foreign keys on, as Codex opens it. The DB is
 * identified by its `_sqlx_migrations` rows: a known Codex schema is read and written as that
 * version does; any other is read by the columns it has and never written (`readOnlyReason`).
 * Skein never runs DDL on a Codex DB and never migrates one. A home without a DB gets one
 * created from a recorded Codex schema; a corrupt one is moved to `db-backups/` and recreated
 * (as Codex 0.169 does), for the backfill to fill. Skein's own data lives in the sidecar
 * `skein_1.sqlite` (a corrupt one is moved aside the same way and started afresh);
 * `thread_history_1.sqlite` (0.169's paginated projection) opens on demand.
 */
export class StateRuntime {
  /** Where a corrupt predecessor was moved at open, if that happened. */
  readonly recoveredBackupDir: string | null;
  /** Where a corrupt sidecar was moved at open, if that happened. */
  readonly recoveredSidecarBackupDir: string | null;
  /** Whether this open created the state DB (the home had none). */
  readonly created: boolean;
  private closed = false;
  private upserter: SqliteBatchUpserter | undefined;
  private historyDbHandle: HistoryDb | null | undefined;

  #ctx: StateContext;
  #identity: SchemaIdentity;
  /** SQLite's schema cookie when the schema was last identified. */
  #schemaVersion: number;

  private constructor(
    readonly path: string,
    readonly sqlite: Database,
    ctx: StateContext,
    identity: SchemaIdentity,
    readonly sidecar: Kysely<SidecarDatabase>,
    private readonly sidecarSqlite: Database,
    private readonly options: OpenStateRuntimeOptions,
    info: {
      recoveredBackupDir: string | null;
      recoveredSidecarBackupDir: string | null;
      created: boolean;
    },
  ) {
    this.recoveredBackupDir = info.recoveredBackupDir;
    this.recoveredSidecarBackupDir = info.recoveredSidecarBackupDir;
    this.created = info.created;
    this.#ctx = ctx;
    this.#identity = identity;
    this.#schemaVersion = schemaVersionOf(sqlite);
  }

  /**
   * The query context. Codex may migrate its DB while Skein has it open (a newer Codex started
   * beside it): SQLite's schema cookie tells, and the schema is then identified again, so a
   * Skein process sees the columns and tables the DB has now (names, read receipts, ...).
   */
  get ctx(): StateContext {
    if (!this.closed) this.refreshSchema();
    return this.#ctx;
  }

  get identity(): SchemaIdentity {
    if (!this.closed) this.refreshSchema();
    return this.#identity;
  }

  private refreshSchema(): void {
    const version = schemaVersionOf(this.sqlite);
    if (version === this.#schemaVersion) return;
    this.#schemaVersion = version;
    this.#identity = identifySchema(readMigrationRows(this.sqlite), KNOWN_STATE_SCHEMAS);
    const profile = readProfile(this.sqlite, this.#identity);
    const { sidecar: previous, ...rest } = this.#ctx;
    const sidecarPath = join(this.sqliteHome, SIDECAR_FILE_NAME);
    const sidecar = attachSidecarStandIns(this.sqlite, sidecarPath, profile, previous);
    this.#ctx = sidecar ? { ...rest, profile, sidecar } : { ...rest, profile };
    // Prepared statements of the bulk path name the old columns.
    this.upserter = undefined;
  }

  get db(): Kysely<StateDatabase> {
    return this.ctx.db;
  }

  get defaultProvider(): string {
    return this.ctx.defaultProvider;
  }

  get profile(): ThreadsProfile {
    return this.ctx.profile;
  }

  /** The Codex version whose schema this DB has, or null when it is not a known one. */
  get codexVersion(): string | null {
    return this.identity.kind === 'known' ? this.identity.codexVersion : null;
  }

  /** Null when Skein writes this DB; else why it only reads it (and writes only the files). */
  get readOnlyReason(): string | null {
    return this.ctx.profile.readOnlyReason;
  }

  /** Whether new threads here are written in 0.169's paginated mode (the home's Codex uses it). */
  get writesPaginatedHistory(): boolean {
    return this.ctx.profile.columns.has('history_mode') && this.readOnlyReason === null;
  }

  get sqliteHome(): string {
    return resolve(this.options.sqliteHome);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A lease host on the sidecar (Skein's own leases). */
  get leases(): { db: Kysely<SidecarDatabase> } {
    return { db: this.sidecar };
  }

  static async open(options: OpenStateRuntimeOptions): Promise<StateRuntime> {
    const path = resolve(options.sqliteHome, CODEX_STATE_DB_FILE);
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
        throw new StateError('OpenFailed', `cannot open state DB ${path}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      backupDir = moveAside(dir, path);
      sqlite = openChecked(path, options);
    }
    let created = false;
    let sidecarSqlite: Database | undefined;
    let sidecarBackupDir: string | null = null;
    try {
      created = createIfEmpty(sqlite, schemaToCreate(dir, options));
      const identity = identifySchema(readMigrationRows(sqlite), KNOWN_STATE_SCHEMAS);
      const profile = readProfile(sqlite, identity);
      const statements = withStatementCache(sqlite);
      const db = new Kysely<StateDatabase>({
        dialect: new SqliteDialect({ database: statements }),
      });
      allowDirectReads(db, statements);
      let ctx = createStateContext(db, {
        dialect: 'sqlite',
        profile,
        statements,
        ...(options.defaultProvider !== undefined
          ? { defaultProvider: options.defaultProvider }
          : {}),
      });
      if (profile.readOnlyReason === null) await ensureBackfillState(ctx);
      const sidecarPath = join(dir, SIDECAR_FILE_NAME);
      try {
        sidecarSqlite = openChecked(sidecarPath, options);
      } catch (error) {
        // Kept in the backup, not deleted: read receipts of a 0.131 home live only there.
        if (!isCorruption(error)) throw error;
        sidecarBackupDir = moveAside(dir, sidecarPath);
        sidecarSqlite = openChecked(sidecarPath, options);
      }
      let sidecar = new Kysely<SidecarDatabase>({
        dialect: new SqliteDialect({ database: sidecarSqlite }),
      });
      await migrateSidecar(sidecarSqlite, sidecar);
      const standIns = attachSidecarStandIns(sqlite, sidecarPath, profile);
      if (standIns) {
        ctx = { ...ctx, sidecar: standIns };
        // The sidecar is now also reached through Codex's connection, whose write transactions
        // lock it too: a second connection of this process would wait on them and stall the
        // event loop, so the sidecar's own statements go through that connection as well.
        await sidecar.destroy();
        sidecar = ctx.db.withPlugin(
          new WithSchemaPlugin(SIDECAR_SCHEMA),
        ) as unknown as Kysely<SidecarDatabase>;
        sidecarSqlite = sqlite;
      }
      await seedStateClocks(ctx);
      return new StateRuntime(path, sqlite, ctx, identity, sidecar, sidecarSqlite, options, {
        recoveredBackupDir: backupDir,
        recoveredSidecarBackupDir: sidecarBackupDir,
        created,
      });
    } catch (error) {
      sqlite.close();
      sidecarSqlite?.close();
      if (error instanceof StateError) throw error;
      throw new StateError(
        'OpenFailed',
        `cannot prepare state DB ${path}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Codex 0.169's history DB (`thread_history_1.sqlite`), opened on first use like Codex does.
   * With `create`, a home whose state DB is 0.169's but has no history DB yet gets one from
   * the recorded schema. Undefined when there is none (or it is not a schema Skein knows).
   */
  historyDb(options: { create?: boolean } = {}): HistoryDb | undefined {
    this.assertOpen();
    if (this.historyDbHandle) return this.historyDbHandle;
    const path = join(this.sqliteHome, CODEX_HISTORY_DB_FILE);
    const canCreate = options.create === true && this.writesPaginatedHistory;
    if (!existsSync(path) && !canCreate) {
      this.historyDbHandle = null;
      return undefined;
    }
    let sqlite: Database;
    try {
      sqlite = openChecked(path, this.options);
    } catch (error) {
      throw cannotOpenHistoryDb(path, error);
    }
    try {
      if (canCreate) createIfEmpty(sqlite, KNOWN_HISTORY_SCHEMAS[KNOWN_HISTORY_SCHEMAS.length - 1]);
      const identity = identifySchema(readMigrationRows(sqlite), KNOWN_HISTORY_SCHEMAS);
      const readOnly =
        identity.kind === 'known'
          ? this.readOnlyReason
          : `history DB schema is ${describeIdentity(identity)}`;
      this.historyDbHandle = new HistoryDb(sqlite, readOnly);
      return this.historyDbHandle;
    } catch (error) {
      sqlite.close();
      throw cannotOpenHistoryDb(path, error);
    }
  }

  /**
   * Moves a damaged history DB (one SQLite reports as corrupt or not a database) and its
   * -wal/-shm into `db-backups/`, where its bytes stay; the next `historyDb({ create: true })`
   * starts a fresh one. The backup's folder, or null when the file opens (nothing is moved).
   * For `skein doctor --repair`: Codex itself leaves a damaged history DB where it is.
   */
  moveDamagedHistoryDbAside(): string | null {
    this.assertOpen();
    if (this.historyDbHandle) return null;
    const path = join(this.sqliteHome, CODEX_HISTORY_DB_FILE);
    if (!existsSync(path)) return null;
    try {
      openChecked(path, this.options).close();
      return null;
    } catch (error) {
      if (!isCorruption(error)) throw cannotOpenHistoryDb(path, error);
    }
    this.historyDbHandle = undefined;
    return moveAside(this.sqliteHome, path);
  }

  /**
   * Skein's side of a backfill batch, written synchronously right after the batch commits (no
   * await in between, so a process killed after reporting a batch has recorded it): the
   * sidecar lease heartbeat, the `updated_at` it just wrote into Codex's row, the counters.
   */
  recordBackfillBatch(
    ownerId: string,
    counts: { done: number; failed: number },
    codexUpdatedAtSeconds: number,
    leaseMs: number,
  ): void {
    this.assertOpen();
    const now = Date.now();
    // The sidecar's schema name on the connection that reaches it.
    const at = this.sidecarSqlite === this.sqlite ? `${SIDECAR_SCHEMA}.` : '';
    this.sidecarSqlite
      .transaction(() => {
        this.sidecarSqlite
          .prepare(
            `update ${at}leases set heartbeat_at_ms = ?, expires_at_ms = ?, note = ?
              where name = 'backfill' and owner_id = ?`,
          )
          .run(now, now + leaseMs, String(codexUpdatedAtSeconds), ownerId);
        this.sidecarSqlite
          .prepare(
            `update ${at}backfill_progress set files_done = files_done + ?,
               files_failed = files_failed + ?, updated_at_ms = ? where id = 1`,
          )
          .run(counts.done, counts.failed, now);
      })
      .immediate();
  }

  /**
   * Starts a first import into the empty `threads` table as one transaction with its
   * secondary indexes built once at the end (see `BulkThreadImport`); null when the table has
   * rows. Batches go through `upsertThreadsBatch` meanwhile. Its index DDL, the only schema
   * change while it holds the write lock, is taken as seen: the schema is not identified again.
   */
  beginBulkThreadImport(): BulkThreadImport | null {
    this.assertOpen();
    assertWritable(this.ctx);
    return BulkThreadImport.begin(this.sqlite, () => {
      this.#schemaVersion = schemaVersionOf(this.sqlite);
    });
  }

  /** SQLite bulk upsert in one immediate transaction (see `BatchUpsertOptions`). */
  upsertThreadsBatch(entries: readonly BatchUpsertEntry[], options?: BatchUpsertOptions): number {
    this.assertOpen();
    this.upserter ??= new SqliteBatchUpserter(this.sqlite, this.ctx);
    return this.upserter.upsertMany(entries, options);
  }

  /** Releases this reference; the connections close when the last holder closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    const entry = openRuntimes.get(this.path);
    if (entry && entry.refs > 1) {
      entry.refs -= 1;
      return;
    }
    this.closed = true;
    openRuntimes.delete(this.path);
    this.historyDbHandle?.close();
    try {
      // Fold our WAL pages back in when nobody else reads (Codex may hold the DB: harmless).
      this.sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // another process may hold it
    }
    await this.#ctx.db.destroy();
    if (this.sidecarSqlite !== this.sqlite) await this.sidecar.destroy();
    if (this.sidecarSqlite.open) this.sidecarSqlite.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('Closed', 'state DB is closed');
  }
}

/** What apps hold and pass down: a ready state DB, or `undefined` for filesystem-only. */
export type StateDb = StateRuntime;

function schemaToCreate(dir: string, options: OpenStateRuntimeOptions): RecordedCodexDb {
  const wanted =
    options.createSchema ??
    (existsSync(join(dir, CODEX_HISTORY_DB_FILE))
      ? KNOWN_STATE_SCHEMAS[KNOWN_STATE_SCHEMAS.length - 1]?.codexVersion
      : KNOWN_STATE_SCHEMAS[0]?.codexVersion);
  const recorded = KNOWN_STATE_SCHEMAS.find((schema) => schema.codexVersion === wanted);
  if (!recorded) throw new StateError('OpenFailed', `no recorded Codex schema ${wanted}`);
  return recorded;
}

function cannotOpenHistoryDb(path: string, error: unknown): StateError {
  return new StateError('OpenFailed', `cannot open history DB ${path}: ${errorMessage(error)}`, {
    cause: error,
  });
}

function openChecked(path: string, options: OpenStateRuntimeOptions): Database {
  const fresh = (statSync(path, { throwIfNoEntry: false })?.size ?? 0) === 0;
  const sqlite = new BetterSqlite3(path);
  try {
    // First, so every statement below waits for another process's lock.
    const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
    sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // As Codex creates its DBs (auto_vacuum = INCREMENTAL); settable only before the first page.
    if (fresh) sqlite.pragma('auto_vacuum = 2');
    verifyIntegrity(sqlite, path);
    setJournalMode(sqlite, options.journalMode ?? 'WAL', busyTimeoutMs);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    return sqlite;
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

/**
 * Switches the DB to `mode`, waiting for other connections' locks as busy_timeout would: SQLite
 * answers a journal-mode change that meets another connection's lock with SQLITE_BUSY at once,
 * without calling the busy handler (two processes opening a new home together met this).
 */
function setJournalMode(sqlite: Database, mode: string, waitMs: number): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (String(sqlite.pragma('journal_mode', { simple: true })).toUpperCase() === mode) return;
    try {
      sqlite.pragma(`journal_mode = ${mode}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline)
        throw error;
      // A synchronous pause, as the busy handler's own waits are.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
