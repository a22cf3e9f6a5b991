import type { Database } from 'better-sqlite3';
import { StateError } from './errors.js';
import { resumeSidecarRecencyInserts, suspendSidecarRecencyInserts } from './sidecar/recency.js';

/** A secondary index of `threads` set aside for the import: its name and its exact SQL. */
interface SetAsideIndex {
  name: string;
  sql: string;
}

/**
 * A first import into an empty `threads` table as one write transaction on Codex's DB, with
 * the table's secondary indexes dropped at its start and created again, from their own stored
 * SQL, just before it commits. Codex's threads table has nine of them; keeping each up to date
 * row by row costs about as much as the rows themselves (10,000 rows: ~460 ms upserted with
 * them in place, ~250 ms including building them once at the end, measured on this machine).
 *
 * The DDL never shows outside the transaction: readers on other connections see the table
 * with every index, empty, until the commit shows it full, with every index; a process killed
 * midway leaves the empty table as it was (SQLite rolls the whole transaction back), so no
 * state exists in which Codex could meet the table without its indexes. The price is that the
 * import holds the DB's write lock until it finishes: callers bound that time (see
 * `runBackfill`) well below the 5 s other writers, Codex among them, wait for a lock.
 *
 * A Codex 0.131 DB keeps recency in Skein's sidecar, filled row by row by a trigger of the
 * connection; the import suspends it and seeds the sidecar from the table in one statement
 * before it commits (in the same transaction).
 *
 * Its index DDL moves the schema cookie, which would make the runtime identify the schema
 * again (and set its sidecar triggers up again) mid-import; the columns and tables stay as
 * they were, so `onOwnDdl` lets the runtime take the new cookie as seen.
 *
 * It runs on the runtime's own connection, so nothing else may write through that runtime
 * meanwhile (its writes would join this transaction): `runBackfill` uses it before
 * `initStateDb` hands the runtime out.
 */
export class BulkThreadImport {
  readonly #sqlite: Database;
  readonly #indexes: readonly SetAsideIndex[];
  readonly #startedAt: number;
  readonly #recencySuspended: boolean;
  readonly #onOwnDdl: () => void;
  #open = true;

  private constructor(
    sqlite: Database,
    indexes: readonly SetAsideIndex[],
    recencySuspended: boolean,
    onOwnDdl: () => void,
  ) {
    this.#sqlite = sqlite;
    this.#indexes = indexes;
    this.#recencySuspended = recencySuspended;
    this.#onOwnDdl = onOwnDdl;
    this.#startedAt = performance.now();
  }

  /**
   * Starts one on `sqlite` when its `threads` table is empty (checked under the write lock),
   * else returns null and leaves no transaction open. Throws if a transaction is already open.
   * `onOwnDdl` runs after each of the import's own schema changes (the indexes dropped, built
   * again, or brought back by a rollback).
   */
  static begin(sqlite: Database, onOwnDdl: () => void = () => {}): BulkThreadImport | null {
    if (sqlite.inTransaction) {
      throw new StateError('Conflict', 'a bulk import cannot start inside another transaction');
    }
    sqlite.exec('begin immediate');
    try {
      if (sqlite.prepare('select 1 from main.threads limit 1').get() !== undefined) {
        sqlite.exec('rollback');
        return null;
      }
      const indexes = setAsideIndexes(sqlite);
      for (const index of indexes) sqlite.exec(`drop index main."${index.name}"`);
      const recencySuspended = suspendSidecarRecencyInserts(sqlite);
      onOwnDdl();
      return new BulkThreadImport(sqlite, indexes, recencySuspended, onOwnDdl);
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec('rollback');
      onOwnDdl();
      throw error;
    }
  }

  /** How long the write lock has been held, in ms. */
  heldMs(): number {
    return performance.now() - this.#startedAt;
  }

  /** Whether the transaction is still open (neither finished nor aborted). */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Creates the indexes again, in their original order and words, restores the sidecar's
   * recency trigger (seeding what it missed), and commits.
   */
  finish(): void {
    if (!this.#open) return;
    try {
      for (const index of this.#indexes) this.#sqlite.exec(index.sql);
      if (this.#recencySuspended) resumeSidecarRecencyInserts(this.#sqlite);
      this.#sqlite.exec('commit');
      this.#open = false;
      this.#onOwnDdl();
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** Rolls everything back: the table is empty again, with every index. */
  abort(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#sqlite.inTransaction) this.#sqlite.exec('rollback');
    this.#onOwnDdl();
  }
}

/**
 * The indexes of `threads` that only speed lookups up: made by CREATE INDEX and not unique (a
 * unique one guards the rows while they are written, so it stays). The primary key's own index
 * stays too: every upsert finds its row through it.
 */
function setAsideIndexes(sqlite: Database): SetAsideIndex[] {
  const listed = sqlite.pragma('main.index_list(threads)') as {
    name: string;
    unique: number;
    origin: string;
  }[];
  const plain = new Set(
    listed.filter((index) => index.origin === 'c' && index.unique === 0).map((index) => index.name),
  );
  const stored = sqlite
    .prepare(
      `select name, sql from main.sqlite_master
        where type = 'index' and tbl_name = 'threads' and sql is not null order by rowid`,
    )
    .all() as SetAsideIndex[];
  return stored.filter((index) => plain.has(index.name));
}
