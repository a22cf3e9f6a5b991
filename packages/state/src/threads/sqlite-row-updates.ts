import type { StatementCache } from '../statement-cache.js';

/*
 * Small updates of one thread row on SQLite, run as prepared statements on the connection
 * Kysely wraps. A live thread stamps its row once per user message; through Kysely that UPDATE
 * is built, compiled and queued for the connection each time (10–25 µs on top of SQLite's own
 * ~25 µs). Here the statement for a set of columns (`update "threads" set "a" = ?, "b" = ? where
 * "id" = ?`, the text Kysely compiles) comes from the connection's statement cache, prepared
 * once, and runs with the values.
 */

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
  readonly #statements: Pick<StatementCache, 'directly'>;
  #runs = 0;

  constructor(statements: Pick<StatementCache, 'directly'>) {
    this.#statements = statements;
  }

  /**
   * Sets plain column values of one row: whether the row exists, or undefined when this path
   * does not apply and the caller goes through Kysely — a value that is an SQL expression, many
   * columns, a closed connection, or a transaction open on the connection (see
   * `StatementCache.directly`).
   */
  update(id: string, set: Record<string, unknown>): boolean | undefined {
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
    const assignments = columns.map((column) => `"${column}" = ?`).join(', ');
    const statement = this.#statements.directly(
      `update "threads" set ${assignments} where "id" = ?`,
    );
    if (statement === undefined) return undefined;
    this.#runs += 1;
    return Number(statement.run(values).changes) > 0;
  }

  /** Updates run on this path so far. */
  get runs(): number {
    return this.#runs;
  }
}
