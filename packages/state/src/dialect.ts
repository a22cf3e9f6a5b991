import type { SortDirection, ThreadCursor } from '@skein/protocol';
import {
  type Expression,
  type Kysely,
  PostgresAdapter,
  type SqlBool,
  SqliteAdapter,
  sql,
} from 'kysely';
import { postgresAfterKey } from './postgres/keyset.js';
import { sqliteAfterKey } from './sqlite/keyset.js';

/**
 * The SQL dialects the query layer runs on. Queries are written against `Kysely<StateDatabase>`;
 * the few spots where the dialects differ take the dialect and go through this file, which
 * dispatches to `sqlite/` and `postgres/` (as Kysely keeps its dialects).
 */
export type StateSqlDialect = 'sqlite' | 'postgres';

/** Reads the dialect off a Kysely instance (by its adapter). */
export function detectStateSqlDialect(db: Kysely<unknown>): StateSqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`unsupported SQL dialect: ${adapter.constructor.name}`);
}

/**
 * Case-sensitive substring test, two-valued (a NULL haystack is false, never NULL), and true
 * for an empty needle as `instr`/`strpos` are.
 *
 * SQLite: `instr` (`LIKE` would be case-insensitive there). PostgreSQL: `LIKE` with the
 * needle's wildcards escaped, which matches exactly the rows `strpos(...) > 0` matches
 * (`LIKE` is case-sensitive on PostgreSQL) but, unlike `strpos`, can be answered by a
 * `gin_trgm_ops` index (migration 0006). Without such an index it is the same scan.
 */
export function containsText(
  dialect: StateSqlDialect,
  haystack: Expression<string | null>,
  needle: string,
): Expression<SqlBool> {
  if (dialect === 'sqlite') return sql<SqlBool>`instr(coalesce(${haystack}, ''), ${needle}) > 0`;
  if (needle === '') return sql<SqlBool>`true`;
  // The `IS NOT NULL` arm keeps the result two-valued (under NOT it must stay exact) and does
  // not stop the planner from using the index for the `LIKE` arm.
  return sql<SqlBool>`(${haystack} is not null and ${haystack} like ${likeSubstringPattern(needle)})`;
}

/**
 * A PostgreSQL `LIKE` pattern matching any text that contains `needle` literally: `\`, `%`
 * and `_` are escaped with `\`, `LIKE`'s default escape character.
 */
export function likeSubstringPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Keyset paging: rows strictly after `cursor` in a listing sorted by `(column, id)` in
 * `direction` (one rule for every store, spec rollout-state §4.4). A cursor without an id passes
 * every row at its time.
 */
export function afterThreadCursor(
  dialect: StateSqlDialect,
  column: Expression<unknown>,
  id: Expression<unknown>,
  direction: SortDirection,
  cursor: ThreadCursor,
): Expression<SqlBool> {
  const op = direction === 'desc' ? '<' : '>';
  const after = dialect === 'postgres' ? postgresAfterKey : sqliteAfterKey;
  return after(column, id, op, cursor.timestampMs, cursor.threadId);
}
