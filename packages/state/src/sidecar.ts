import type { Generated, Kysely, Migration } from 'kysely';

/**
 * Skein's own SQLite file beside Codex's (`skein_1.sqlite`): what only Skein needs and Codex
 * must never see — who holds Skein's side of the backfill lease (so a dead Skein holder is
 * replaced at once instead of after Codex's 15-minute lease) and the last import's counters.
 * Codex ignores the file; losing it loses nothing a rebuild cannot restore.
 */
export interface SidecarDatabase {
  leases: SidecarLeasesTable;
  backfill_progress: BackfillProgressTable;
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

/** The sidecar's migrations, in order. A released one is never edited. */
export const SIDECAR_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_leases_and_progress': leasesAndProgress,
});

/**
 * Skein's own file beside Codex's DBs (`skein_1.sqlite`): leases and import counters. Codex
 * ignores it; losing it loses nothing.
 */
export const SIDECAR_FILE_NAME = 'skein_1.sqlite';
