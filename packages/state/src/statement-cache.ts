import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { schemaVersionOf } from './db-file.js';

/**
 * Kysely's SQLite driver prepares every query it runs, and preparing costs more than running a
 * page query (about 80 µs against a few µs for a point lookup): a list page of 50 repaired rows
 * prepared ~60 statements. This is the connection Kysely is given instead: prepared statements
 * are kept per SQL text (at most `MAX_STATEMENTS`, oldest dropped first) and reused. A statement
 * still iterating (a streamed query) is never handed out twice; a fresh one is prepared. When
 * the schema changes (Codex migrated the DB meanwhile), the kept statements are dropped.
 */
const MAX_STATEMENTS = 256;

/**
 * The connection as Kysely is given it, plus `directly`: the same kept statements for the paths
 * that run beside Kysely's executor (compiled hot reads, small row updates).
 */
export interface StatementCache extends Pick<SqliteDatabase, 'close'> {
  prepare(sql: string): KeptStatement;
  /**
   * The statement for `sql` to run beside Kysely, or undefined while that is not safe: the
   * connection is closed, or a transaction is open on it (it belongs to whoever holds Kysely's
   * connection, and a statement run here would join it; such work waits its turn through
   * Kysely).
   */
  directly(sql: string): KeptStatement | undefined;
}

export function withStatementCache(sqlite: Database): StatementCache & SqliteDatabase {
  const statements = new Map<string, KeptStatement>();
  let schemaVersion = -1;
  const cache: StatementCache = {
    prepare(sql: string) {
      const version = schemaVersionOf(sqlite);
      if (version !== schemaVersion) {
        statements.clear();
        schemaVersion = version;
      }
      const kept = statements.get(sql);
      if (kept !== undefined && !kept.busy) return kept;
      const statement = new KeptStatement(sqlite.prepare(sql));
      if (kept === undefined) {
        if (statements.size >= MAX_STATEMENTS) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
        statements.set(sql, statement);
      }
      return statement;
    },
    directly(sql: string) {
      return sqlite.open && !sqlite.inTransaction ? cache.prepare(sql) : undefined;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
  return cache as StatementCache & SqliteDatabase;
}

type Row = Record<string, unknown>;

/**
 * A prepared statement as Kysely's driver uses it (`reader`, `all`, `run`, `iterate`), whose
 * `all` reads rows as arrays and builds the objects itself: better-sqlite3 sets an object's
 * properties one by one from C++ (about 10 µs a row of Codex's 30-column `threads`); a
 * function made for the statement's columns builds each row as one object literal, in half
 * the time. The objects are the same: every column by name, a repeated name holding its last
 * column's value, as better-sqlite3 gives them.
 */
export class KeptStatement {
  readonly reader: boolean;
  #buildRow: ((values: unknown[]) => Row) | null = null;
  #width = -1;

  constructor(readonly statement: Statement) {
    this.reader = statement.reader;
  }

  get busy(): boolean {
    return this.statement.busy;
  }

  all(parameters: unknown): unknown[] {
    if (!this.reader) return this.statement.all(parameters);
    let rows: unknown[][];
    this.statement.raw(true);
    try {
      rows = this.statement.all(parameters) as unknown[][];
    } finally {
      this.statement.raw(false);
    }
    // Codex may migrate the DB between the cookie check in `prepare` and this run: SQLite then
    // re-prepares the statement, and a `*` over a table that gained columns returns wider rows
    // (moving the columns after it). The builder follows the row's width.
    const width = rows.length > 0 ? (rows[0] as unknown[]).length : this.#width;
    if (this.#buildRow === null || width !== this.#width) {
      const names = this.statement.columns().map((c) => c.name);
      this.#buildRow = rowBuilder(names);
      this.#width = names.length;
    }
    const build = this.#buildRow;
    const out = new Array<Row>(rows.length);
    for (let i = 0; i < rows.length; i += 1) out[i] = build(rows[i] as unknown[]);
    return out;
  }

  run(parameters: unknown) {
    return this.statement.run(parameters);
  }

  iterate(parameters: unknown) {
    return this.statement.iterate(parameters);
  }
}

/** A function turning a row's values into an object with these column names. */
function rowBuilder(names: readonly string[]): (values: unknown[]) => Row {
  // The last column of a repeated name wins (as in better-sqlite3's objects); the key keeps
  // the place of its first appearance.
  const lastIndex = new Map<string, number>();
  for (const [index, name] of names.entries()) lastIndex.set(name, index);
  if (lastIndex.has('__proto__')) {
    // In a literal that key would define the prototype; better-sqlite3 assigns it (an object
    // value becomes the prototype, anything else is dropped): so does this, by assignment.
    return (values) => {
      const row: Row = {};
      for (const [name, index] of lastIndex) row[name] = values[index];
      return row;
    };
  }
  const fields = [...lastIndex].map(([name, index]) => `${JSON.stringify(name)}: v[${index}]`);
  // Names are quoted with JSON.stringify, indexes are numbers: nothing else enters the code.
  return new Function('v', `return { ${fields.join(', ')} };`) as (values: unknown[]) => Row;
}
