import { type Kysely, sql, type Transaction } from 'kysely';
import type { StateContext } from './context.js';
import type { StateDatabase } from './schema.js';

/**
 * A write transaction that reads first, safe beside other processes. On SQLite a deferred
 * transaction that reads and then writes fails at once with "database is locked" when another
 * process committed in between (its read snapshot cannot be upgraded, and the busy timeout
 * does not apply); `BEGIN IMMEDIATE` takes the write lock first and waits for it under the busy
 * timeout instead. PostgreSQL's default transaction serves the same purpose.
 */
export async function writeTransaction<T>(
  ctx: StateContext,
  work: (trx: Kysely<StateDatabase>) => Promise<T>,
): Promise<T> {
  if (ctx.dialect !== 'sqlite') {
    return ctx.db.transaction().execute((trx: Transaction<StateDatabase>) => work(trx));
  }
  return ctx.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
