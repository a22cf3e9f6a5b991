import type { Database, Statement } from 'better-sqlite3';

/*
 * Small updates of one thread row on SQLite, run as prepared statements on the connection
 * Kysely wraps. A live thread stamps its row once per user message; through Kysely that UPDATE
 * is built, compiled and queued for the connection each time (10–25 µs on top of SQLite's own
 * ~25 µs). Here the statement for a set of columns (`update "threads" set "a" = ?, "b" = ? where
 * "id" = ?`, the text Kysely compiles) is prepared once and run with the values.
 */

/** Statements kept (one per column set; oldest dropped first). */
const MAX_STATEMENTS = 32;
/** Wider updates are rare (explicit updates): Kysely builds them. */
const MAX_COLUMNS = 8;
const COLUMN_NAME = /^[a-z_]+$/;

/** A value SQLite binds as it is: no SQL expression, nothing Kysely would transform. */
function isPlainValue(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint'
  );
}

/** The prepared UPDATEs of one connection's `threads` rows, by column set. */
export class SqliteThreadRowUpdates {
  readonly #sqlite: Database;
  readonly #statements = new Map<string, Statement>();
  #runs = 0;

  constructor(sqlite: Database) {
    this.#sqlite = sqlite;
  }

  /**
   * Sets plain column values of one row: whether the row exists, or undefined when this path
   * does not apply and the caller goes through Kysely — a value that is an SQL expression, many
   * columns, a closed connection, or a transaction open on the connection (it belongs to whoever
   * holds Kysely's connection; a statement run here would join it).
   */
  update(id: string, set: Record<string, unknown>): boolean | undefined {
    const sqlite = this.#sqlite;
    if (!sqlite.open || sqlite.inTransaction) return undefined;
    const columns = Object.keys(set);
    if (columns.length === 0 || columns.length > MAX_COLUMNS) return undefined;
    const values = new Array<unknown>(columns.length + 1);
    for (let index = 0; index < columns.length; index += 1) {
      const column = columns[index] as string;
      const value = set[column];
      if (!COLUMN_NAME.test(column) || !isPlainValue(value)) return undefined;
      values[index] = value;
    }
    values[columns.length] = id;
    const key = columns.join(',');
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      const assignments = columns.map((column) => `"${column}" = ?`).join(', ');
      statement = sqlite.prepare(`update "threads" set ${assignments} where "id" = ?`);
      if (this.#statements.size >= MAX_STATEMENTS) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(key, statement);
    }
    this.#runs += 1;
    return statement.run(...values).changes > 0;
  }

  /** Updates run on this path so far. */
  get runs(): number {
    return this.#runs;
  }
}
