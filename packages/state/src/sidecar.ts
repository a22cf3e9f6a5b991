import type { Generated, Kysely, Migration } from 'kysely';

/**
 * Skein's own SQLite file beside Codex's (`skein_1.sqlite`): what only Skein needs and Codex
 * must never see — who holds Skein's side of the backfill lease (so a dead Skein holder is
 * replaced at once instead of after Codex's 15-minute lease), the last import's counters, the
 * renames under way (so one a crash cut short is settled at the next open), and
 * for a Codex 0.131 DB what 0.169 would add to it (recency, read receipts). Codex ignores the
 * file; losing it loses only what a 0.131 DB cannot hold. When a newer Codex migrates the DB,
 * Skein hands the receipts over to Codex's new table (sidecar/handover.ts).
 */
export interface SidecarDatabase {
  leases: SidecarLeasesTable;
  backfill_progress: BackfillProgressTable;
  skein_thread_recency: SidecarRecencyTable;
  thread_read_receipts: SidecarReadReceiptsTable;
  rename_intents: SidecarRenameIntentsTable;
}

type Int = number | string | bigint;

export interface SidecarLeasesTable {
  /** What the lease guards, e.g. `backfill`. */
  name: string;
  /** Unique per holder instance (one process may hold several leases). */
  owner_id: string;
  owner_host: string;
  owner_pid: number;
  /** Identifies the owner process's start, so a reused pid is told apart (see lease-owner.ts). */
  owner_start_token: string;
  acquired_at_ms: Int;
  heartbeat_at_ms: Int;
  expires_at_ms: Int;
  /**
   * Backfill: the `backfill_state.updated_at` (seconds) the holder last wrote into Codex's DB,
   * so a successor can tell that nobody else touched Codex's lease since the holder died.
   */
  note: string | null;
}

export interface BackfillProgressTable {
  id: number;
  files_done: Generated<Int>;
  files_failed: Generated<Int>;
  updated_at_ms: Int;
}

/**
 * A thread's recency where Codex's DB has no `recency_at_ms` (0.131): what 0.169 would hold
 * after migrating the DB (see `sidecar/recency.ts`).
 */
export interface SidecarRecencyTable {
  thread_id: string;
  recency_at_ms: Int;
}

/** Read receipts where Codex's DB has no `thread_read_receipts` (0.131): 0.169's columns. */
export interface SidecarReadReceiptsTable {
  thread_id: string;
  /** Null: read; `''`: unread from the start; else the first unread turn's id. */
  first_unread_turn: string | null;
  revision: string;
  last_published_turn: string | null;
}

/**
 * A rename under way (see `sidecar/rename-intents.ts`): committed before the rename writes
 * Codex's DB and the name index, deleted once it has, so a rename whose process died in between
 * is settled by the next open.
 */
export interface SidecarRenameIntentsTable {
  id: Generated<number>;
  thread_id: string;
  /** The name being set; null clears it. */
  name: string | null;
  /** The DB's stored name (the column a rename writes) when the intent was written. */
  db_name_before: string | null;
  /** The thread's current name in `session_index.jsonl` then; null: none. */
  index_name_before: string | null;
  owner_host: string;
  owner_pid: number;
  owner_start_token: string;
  created_at_ms: Int;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

const leasesAndProgress: Migration = {
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
      .addColumn('note', 'text')
      .execute();
    await db.schema
      .createTable('backfill_progress')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('files_done', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('files_failed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/**
 * What Codex 0.169 adds to a 0.131 DB when it migrates it, kept here instead for as long as the
 * DB stays 0.131's (Skein never changes a Codex schema): recency, and read receipts with
 * exactly the columns of 0.169's table.
 */
const recencyAndReadReceipts: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('skein_thread_recency')
      .addColumn('thread_id', 'text', (c) => c.primaryKey())
      .addColumn('recency_at_ms', 'integer', (c) => c.notNull())
      .execute();
    // The recency listing walks this index and looks each row up in Codex's `threads`.
    await db.schema
      .createIndex('idx_skein_thread_recency_at_ms')
      .on('skein_thread_recency')
      .columns(['recency_at_ms desc', 'thread_id desc'])
      .execute();
    await db.schema
      .createTable('thread_read_receipts')
      .addColumn('thread_id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('first_unread_turn', 'text')
      .addColumn('revision', 'text', (c) => c.notNull())
      .addColumn('last_published_turn', 'text')
      .execute();
  },
};

/** Renames under way, so one cut short between Codex's DB and the name index is settled. */
const renameIntents: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('rename_intents')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('thread_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('db_name_before', 'text')
      .addColumn('index_name_before', 'text')
      .addColumn('owner_host', 'text', (c) => c.notNull())
      .addColumn('owner_pid', 'integer', (c) => c.notNull())
      .addColumn('owner_start_token', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    // A read of one thread looks for its intents.
    await db.schema
      .createIndex('idx_rename_intents_thread_id')
      .on('rename_intents')
      .column('thread_id')
      .execute();
  },
};

/** The sidecar's migrations, in order. A released one is never edited. */
export const SIDECAR_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_leases_and_progress': leasesAndProgress,
  '0002_recency_and_read_receipts': recencyAndReadReceipts,
  '0003_rename_intents': renameIntents,
});

/**
 * Skein's own file beside Codex's DBs (`skein_1.sqlite`): leases, import counters, and (for a
 * 0.131 DB) recency and read receipts. Codex ignores it.
 */
export const SIDECAR_FILE_NAME = 'skein_1.sqlite';
