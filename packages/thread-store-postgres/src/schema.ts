import type { StateDatabase } from '@skein/state';
import type { Kysely, Migration } from 'kysely';

/**
 * Tables the PostgreSQL store adds to the shared state schema (`threads`, `thread_spawn_edges`,
 * `leases` come from @skein/state's migrations). History lives here because on PostgreSQL there
 * is no rollout file: the rows are the transcript.
 */
export interface PgStoreDatabase extends StateDatabase {
  thread_store_threads: ThreadStoreThreadsTable;
  thread_store_items: ThreadStoreItemsTable;
}

type Int = number | string | bigint;

/** One row per materialized thread: what `threads` has no column for, and the item counter. */
export interface ThreadStoreThreadsTable {
  thread_id: string;
  session_id: string;
  /** Items stored so far; the next item gets `item_count + 1`. Bumped under the row lock. */
  item_count: Int;
  /** Last observed TokenUsage as JSON (`threads.tokens_used` keeps only the total). */
  token_usage_json: string | null;
  /** `ExtraConfig` JSON given at create, or null. */
  extra_config_json: string | null;
}

/** History: append-only, ordered by `seq` (1-based, dense) within a thread. */
export interface ThreadStoreItemsTable {
  thread_id: string;
  seq: Int;
  /** One RolloutItem as JSON text (kept byte for byte; `jsonb` would reorder keys). */
  item_json: string;
  /**
   * When the store accepted the item (a rollout line's `timestamp`), epoch ms. Null for rows
   * written before migration 0002, which did not record it.
   */
  created_at_ms: Int | null;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

const historyTables: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('thread_store_threads')
      .addColumn('thread_id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('item_count', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('token_usage_json', 'text')
      .addColumn('extra_config_json', 'text')
      .execute();
    await db.schema
      .createTable('thread_store_items')
      .addColumn('thread_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('item_json', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('thread_store_items_pk', ['thread_id', 'seq'])
      .execute();
  },
};

/** Items remember when they were recorded, as rollout lines do: turn and item times. */
const itemCreatedAt: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('thread_store_items').addColumn('created_at_ms', 'bigint').execute();
  },
};

/** The store's own migrations, applied after the state schema's. Never edit a released one. */
export const PG_STORE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_history_tables': historyTables,
  '0002_item_created_at': itemCreatedAt,
});

/** The table Kysely records the store's applied migrations in. */
export const PG_STORE_MIGRATION_TABLE = 'skein_pg_store_migration';
export const PG_STORE_MIGRATION_LOCK_TABLE = 'skein_pg_store_migration_lock';
