import { type Expression, type SqlBool, sql } from 'kysely';

/**
 * SQLite's "strictly after `(timestampMs, id)` in the listing order": the OR form, which
 * SQLite's planner answers from the `(archived, <sort column>, id)` indexes as a range on the
 * sort column.
 */
export function sqliteAfterKey(
  column: Expression<unknown>,
  id: Expression<unknown>,
  op: '<' | '>',
  timestampMs: number,
  threadId: string | null,
): Expression<SqlBool> {
  const at = sql.raw(op);
  if (threadId === null) return sql<SqlBool>`${column} ${at} ${timestampMs}`;
  return sql<SqlBool>`(${column} ${at} ${timestampMs} or (${column} = ${timestampMs} and ${id} ${at} ${threadId}))`;
}
