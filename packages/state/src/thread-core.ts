/**
 * Thread ids and the metadata record, without the SQL layer: for code that only parses
 * rollouts (backfill extraction threads), where loading Kysely and better-sqlite3 would cost
 * ~200 ms of CPU per thread.
 */

export * from '@skein/protocol';
export { isThreadId, newThreadId, parseThreadId, type ThreadId } from '@skein/protocol';
