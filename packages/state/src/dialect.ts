import {
  type Expression,
  type Kysely,
  PostgresAdapter,
  type SqlBool,
  SqliteAdapter,
  sql,
} from 'kysely';

/**
 * The SQL dialects the query layer runs on. Queries are written against `Kysely<StateDatabase>`;
 * the few spots where the dialects differ take the dialect and go through this file.
 */
export type StateSqlDialect = 'sqlite' | 'postgres';

/** Reads the dialect off a Kysely instance (by its adapter). */
export function detectStateSqlDialect(db: Kysely<unknown>): StateSqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`unsupported SQL dialect: ${adapter.constructor.name}`);
}

/** Case-sensitive substring test (`LIKE` would be case-insensitive on SQLite). */
export function containsText(
  dialect: StateSqlDialect,
  haystack: Expression<string | null>,
  needle: string,
): Expression<SqlBool> {
  return dialect === 'sqlite'
    ? sql<SqlBool>`instr(coalesce(${haystack}, ''), ${needle}) > 0`
    : sql<SqlBool>`strpos(coalesce(${haystack}, ''), ${needle}) > 0`;
}
