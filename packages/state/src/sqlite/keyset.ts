import { type Expression, type SqlBool, sql } from 'kysely';

/**
 * SQLite's "strictly after `(timestampMs, id)` in the listing order": the OR form, led by the
 * same bound on the sort column alone (`<=` / `>=`, implied by the OR form, so it matches the
 * same rows). SQLite does not take the OR form alone as a range: a page after a cursor then
 * walked the sort index from its start, skipping every row before the cursor (a page in the
 * middle of 100,000 threads: 2.2 ms, and growing with the depth). With the leading bound it
 * seeks to the cursor (0.05 ms at any depth).
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
  const upTo = sql.raw(op === '<' ? '<=' : '>=');
  const tie = sql<SqlBool>`(${column} = ${timestampMs} and ${id} ${at} ${threadId})`;
  return sql<SqlBool>`(${column} ${upTo} ${timestampMs} and (${column} ${at} ${timestampMs} or ${tie}))`;
}
