import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  sql,
} from 'kysely';
import { detectStateSqlDialect } from './dialect.js';
import { errorMessage, StateError } from './errors.js';
import { THREAD_SEARCH_SCHEMA_SQL } from './sqlite-search.js';

/**
 * The state schema as Kysely migrations in code. Written with the schema builder (no
 * dialect-specific SQL, except the SQLite-only search index of 0005 and the PostgreSQL-only
 * trigram indexes of 0006), so the same list migrates
 * SQLite and PostgreSQL. A migration, once released, is never edited: later changes are new
 * entries.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

const SORT_COLUMNS = ['created_at_ms', 'updated_at_ms', 'recency_at_ms'] as const;

const threadsAndSpawnEdges: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('threads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('rollout_path', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('recency_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('thread_source', 'text')
      .addColumn('agent_nickname', 'text')
      .addColumn('agent_role', 'text')
      .addColumn('agent_path', 'text')
      .addColumn('model_provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text')
      .addColumn('reasoning_effort', 'text')
      .addColumn('cwd', 'text', (c) => c.notNull())
      .addColumn('cli_version', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('name', 'text')
      .addColumn('preview', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('first_user_message', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('sandbox_policy', 'text', (c) => c.notNull())
      .addColumn('approval_mode', 'text', (c) => c.notNull())
      .addColumn('tokens_used', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('archived_at_ms', 'bigint')
      .addColumn('git_sha', 'text')
      .addColumn('git_branch', 'text')
      .addColumn('git_origin_url', 'text')
      .addColumn('memory_mode', 'text', (c) => c.notNull().defaultTo('enabled'))
      .addColumn('parent_thread_id', 'text')
      .addColumn('forked_from_id', 'text')
      .addColumn('history_mode', 'text', (c) => c.notNull().defaultTo('legacy'))
      .addColumn('originator', 'text')
      .execute();

    for (const column of SORT_COLUMNS) {
      const short = column.replace('_at_ms', '');
      // Plain sort order (any archived state, hidden threads included).
      await db.schema
        .createIndex(`idx_threads_${short}`)
        .on('threads')
        .columns([`${column} desc`, 'id desc'])
        .execute();
      // The default list: one archived state, visible threads only.
      await db.schema
        .createIndex(`idx_threads_visible_${short}`)
        .on('threads')
        .columns(['archived', `${column} desc`, 'id desc'])
        .where(sql.ref('preview'), '<>', '')
        .execute();
      // The per-project list.
      await db.schema
        .createIndex(`idx_threads_archived_cwd_${short}`)
        .on('threads')
        .columns(['archived', 'cwd', `${column} desc`, 'id desc'])
        .execute();
    }
    await db.schema.createIndex('idx_threads_source').on('threads').column('source').execute();
    await db.schema
      .createIndex('idx_threads_provider')
      .on('threads')
      .column('model_provider')
      .execute();
    await db.schema
      .createIndex('idx_threads_parent')
      .on('threads')
      .column('parent_thread_id')
      .where(sql.ref('parent_thread_id'), 'is not', null)
      .execute();

    // No foreign keys: a child may be indexed before its parent (backfill order is by path).
    await db.schema
      .createTable('thread_spawn_edges')
      .addColumn('child_thread_id', 'text', (c) => c.primaryKey())
      .addColumn('parent_thread_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('idx_thread_spawn_edges_parent')
      .on('thread_spawn_edges')
      .columns(['parent_thread_id', 'child_thread_id'])
      .execute();
  },
};

const backfillState: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('backfill_state')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_watermark', 'text')
      .addColumn('last_success_at_ms', 'bigint')
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};

const leasesAndBackfillOwner: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('owner_host', 'text', (c) => c.notNull())
      .addColumn('owner_pid', 'integer', (c) => c.notNull())
      .addColumn('owner_start_token', 'text', (c) => c.notNull())
      .addColumn('acquired_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    // One column per ALTER: SQLite cannot add several at once.
    await db.schema.alterTable('backfill_state').addColumn('owner_host', 'text').execute();
    await db.schema.alterTable('backfill_state').addColumn('owner_pid', 'integer').execute();
    await db.schema.alterTable('backfill_state').addColumn('owner_start_token', 'text').execute();
    await db.schema
      .alterTable('backfill_state')
      .addColumn('files_done', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('backfill_state')
      .addColumn('files_failed', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

const backfillDeferredIndexes: Migration = {
  async up(db: AnyDb) {
    // Index definitions a fresh import dropped to load faster; restored before `complete`.
    await db.schema.alterTable('backfill_state').addColumn('deferred_index_sql', 'text').execute();
  },
};

const threadSearchIndex: Migration = {
  async up(db: AnyDb) {
    // SQLite only (FTS5 trigram); PostgreSQL searches by scan.
    if (detectStateSqlDialect(db) !== 'sqlite') return;
    for (const statement of THREAD_SEARCH_SCHEMA_SQL) await sql.raw(statement).execute(db);
  },
};

/**
 * PostgreSQL only: trigram GIN indexes on the searched columns, so a search term (a substring
 * test, see `containsText`) reads the few matching rows instead of scanning the table. Needs
 * the `pg_trgm` extension; where it cannot be created (not installed, no privilege) the
 * migration still succeeds and search keeps scanning.
 */
const threadSearchTrigramIndexes: Migration = {
  async up(db: AnyDb) {
    if (detectStateSqlDialect(db) !== 'postgres') return;
    const trgmSchema = await ensurePgTrgm(db);
    if (trgmSchema === null) return;
    for (const column of THREAD_SEARCH_COLUMNS) {
      await createTrgmIndex(db, column, trgmSchema, { concurrently: false });
    }
  },
};

const THREAD_SEARCH_COLUMNS = ['name', 'title', 'preview'] as const;
type ThreadSearchColumn = (typeof THREAD_SEARCH_COLUMNS)[number];

const trgmIndexName = (column: ThreadSearchColumn) => `idx_threads_${column}_trgm`;

async function createTrgmIndex(
  db: AnyDb,
  column: ThreadSearchColumn,
  trgmSchema: string,
  { concurrently }: { concurrently: boolean },
): Promise<void> {
  // The operator class is schema-qualified: the extension may live outside the search path.
  await sql`create index ${sql.raw(concurrently ? 'concurrently ' : '')}if not exists
    ${sql.id(trgmIndexName(column))} on threads
    using gin (${sql.ref(column)} ${sql.id(trgmSchema, 'gin_trgm_ops')})`.execute(db);
}

/** The schema `pg_trgm` is installed in, or null. */
async function pgTrgmSchema(db: AnyDb): Promise<string | null> {
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e
    join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  return rows[0]?.schema ?? null;
}

/**
 * Makes sure `pg_trgm` is installed and returns its schema, or null when it cannot be. A
 * trusted extension since PostgreSQL 13: a role with CREATE on the database may create it. The
 * privileges are checked first; the attempt still runs under a savepoint, since Kysely runs
 * PostgreSQL migrations in one transaction and a failed statement would abort all of it.
 */
async function ensurePgTrgm(db: AnyDb): Promise<string | null> {
  const installed = await pgTrgmSchema(db);
  if (installed !== null) return installed;
  const { rows } = await sql<{ available: boolean; allowed: boolean }>`
    select
      exists (select 1 from pg_available_extensions where name = 'pg_trgm') as available,
      coalesce((select rolsuper from pg_roles where rolname = current_user), false)
        or (has_database_privilege(current_database(), 'CREATE')
          and current_schema() is not null
          and has_schema_privilege(current_schema(), 'CREATE')) as allowed`.execute(db);
  if (!rows[0]?.available || !rows[0]?.allowed) return null;
  const create = sql`create extension if not exists pg_trgm`;
  if (!db.isTransaction) {
    try {
      await create.execute(db);
    } catch {
      return null;
    }
    return await pgTrgmSchema(db);
  }
  await sql`savepoint skein_pg_trgm`.execute(db);
  try {
    await create.execute(db);
    await sql`release savepoint skein_pg_trgm`.execute(db);
  } catch {
    await sql`rollback to savepoint skein_pg_trgm`.execute(db);
    await sql`release savepoint skein_pg_trgm`.execute(db);
    return null;
  }
  return await pgTrgmSchema(db);
}

/** Key of the session advisory lock held while one process builds missing search indexes. */
const SEARCH_INDEX_BUILD_LOCK = 'skein_thread_search_trgm';

/**
 * PostgreSQL: builds the search trigram indexes that migration 0006 could not, because
 * `pg_trgm` was missing or could not be created then and is available now (a DBA installed it
 * later). Runs outside any transaction on one pinned connection: `CREATE INDEX CONCURRENTLY`,
 * so writers are not blocked, under a session advisory lock so only one process builds (the
 * others return at once); an index a killed build left invalid is dropped and built again.
 * Cheap when there is nothing to do: one catalog query. Returns the names of the indexes built.
 */
export async function buildMissingPgSearchIndexes(
  db: AnyDb,
  options: {
    /** Told the server process id of the building connection (to cancel it), then null. */
    onBuilding?: (backendPid: number | null) => void;
  } = {},
): Promise<string[]> {
  if (detectStateSqlDialect(db) !== 'postgres') return [];
  return await db.connection().execute(async (conn) => {
    const validity = async () => {
      const { rows } = await sql<{ name: string; valid: boolean }>`
        select c.relname as name, i.indisvalid as valid from pg_index i
        join pg_class c on c.oid = i.indexrelid
        where c.relnamespace = current_schema()::regnamespace
          and c.relname in (${sql.join(THREAD_SEARCH_COLUMNS.map(trgmIndexName))})`.execute(conn);
      return new Map(rows.map((row) => [row.name, row.valid]));
    };
    const allValid = (state: Map<string, boolean>) =>
      THREAD_SEARCH_COLUMNS.every((column) => state.get(trgmIndexName(column)) === true);
    if (allValid(await validity())) return [];
    const trgmSchema = await ensurePgTrgm(conn);
    if (trgmSchema === null) return [];
    const { rows } = await sql<{ locked: boolean }>`
      select pg_try_advisory_lock(hashtext(${SEARCH_INDEX_BUILD_LOCK})) as locked`.execute(conn);
    if (!rows[0]?.locked) return []; // another process is building them
    try {
      const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
      options.onBuilding?.(pid.rows[0]?.pid ?? null);
      const state = await validity();
      const built: string[] = [];
      for (const column of THREAD_SEARCH_COLUMNS) {
        const name = trgmIndexName(column);
        const valid = state.get(name);
        if (valid === true) continue;
        if (valid === false)
          await sql`drop index concurrently if exists ${sql.id(name)}`.execute(conn);
        await createTrgmIndex(conn, column, trgmSchema, { concurrently: true });
        built.push(name);
      }
      return built;
    } finally {
      options.onBuilding?.(null);
      await sql`select pg_advisory_unlock(hashtext(${SEARCH_INDEX_BUILD_LOCK}))`.execute(conn);
    }
  });
}

/** Every migration, in order. Names sort in application order. */
export const STATE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_threads_and_spawn_edges': threadsAndSpawnEdges,
  '0002_backfill_state': backfillState,
  '0003_leases_and_backfill_owner': leasesAndBackfillOwner,
  '0004_backfill_deferred_indexes': backfillDeferredIndexes,
  '0005_thread_search_index': threadSearchIndex,
  '0006_thread_search_trigram_indexes': threadSearchTrigramIndexes,
});

/**
 * The names of Skein's own schema migrations (PostgreSQL and Skein's SQLite layout), in order.
 * Codex's DBs are never migrated.
 */
export const STATE_MIGRATION_NAMES: readonly string[] = Object.keys(STATE_MIGRATIONS).sort();

/** Kysely's bookkeeping tables, named so nobody mistakes them for Codex's `_sqlx_migrations`. */
export const STATE_MIGRATION_TABLE = 'skein_migration';
/** Kysely's migration lock table for Skein's own schema. */
export const STATE_MIGRATION_LOCK_TABLE = 'skein_migration_lock';

/**
 * The known migrations plus a no-op for every name the DB records that this build does not
 * know: a DB migrated by a newer Skein stays usable by an older one (Kysely's Migrator would
 * otherwise refuse it as "corrupted"). Computed before the Migrator runs: its provider is
 * called while the Migrator holds the only SQLite connection.
 */
function migrationsTolerating(applied: readonly string[]): MigrationProvider {
  const all: Record<string, Migration> = { ...STATE_MIGRATIONS };
  for (const name of applied) {
    if (!(name in all)) all[name] = { up: async () => {} };
  }
  return { getMigrations: async () => all };
}

/** How `migrateStateSchema` runs: up to a target migration, in which PostgreSQL schema. */
export interface MigrateStateOptions {
  /** Stop after this migration (tests use it to build every earlier version). */
  target?: string;
  /** PostgreSQL schema for the bookkeeping tables. */
  migrationTableSchema?: string;
}

/**
 * Brings a state DB up to the latest known migration (or `target`). Dialect-neutral: the caller
 * serializes concurrent runs where the dialect needs it (see `StateRuntime` for SQLite).
 */
export async function migrateStateSchema(
  db: AnyDb,
  options: MigrateStateOptions = {},
): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: migrationsTolerating(await appliedStateMigrations(db)),
    migrationTableName: STATE_MIGRATION_TABLE,
    migrationLockTableName: STATE_MIGRATION_LOCK_TABLE,
    ...(options.migrationTableSchema ? { migrationTableSchema: options.migrationTableSchema } : {}),
    allowUnorderedMigrations: true,
  });
  const result =
    options.target === undefined
      ? await migrator.migrateToLatest()
      : await migrator.migrateTo(options.target);
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StateError(
      'MigrationFailed',
      `state DB migration ${failed ?? ''} failed: ${errorMessage(result.error)}`,
      { cause: result.error },
    );
  }
  return result;
}

/** Names of the migrations the DB has applied (known or not), in application order. */
export async function appliedStateMigrations(db: AnyDb): Promise<string[]> {
  try {
    const rows = await db
      .selectFrom(STATE_MIGRATION_TABLE)
      .select('name')
      .orderBy('timestamp')
      .orderBy('name')
      .execute();
    return rows.map((row) => String(row.name));
  } catch {
    return [];
  }
}
