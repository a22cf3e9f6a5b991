import { type Expression, type SqlBool, sql } from 'kysely';

/**
 * PostgreSQL's "strictly after `(timestampMs, id)` in the listing order": a row-value
 * comparison, which is one index range on `(<sort column>, id)`; the equivalent OR form makes a
 * deep page scan every row before the cursor.
 */
export function postgresAfterKey(
  column: Expression<unknown>,
  id: Expression<unknown>,
  op: '<' | '>',
  timestampMs: number,
  threadId: string | null,
): Expression<SqlBool> {
  const at = sql.raw(op);
  if (threadId === null) return sql<SqlBool>`${column} ${at} ${timestampMs}`;
  return sql<SqlBool>`(${column}, ${id}) ${at} (${timestampMs}, ${threadId})`;
}
