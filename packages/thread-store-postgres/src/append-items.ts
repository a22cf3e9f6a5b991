/**
 * `PostgresThreadStore.appendItems`: items to an unwritten thread wait in its writer; items to
 * a written one go in one fenced statement that renews the writer lease, bumps the thread's
 * item counter under its row lock only if the lease is still ours, and inserts the batch after
 * it. Different threads touch different rows, so their appends never wait on each other.
 *
 * Crash safety: the statement is its own (implicit) transaction: a crash leaves the batch
 * either wholly appended or not at all, never a gap in the dense `seq`.
 */
import {
  type AppendThreadItemsParams,
  persistedRolloutItems,
  type RolloutItem,
  ThreadStoreError,
} from '@skein/thread-store';
import { sql } from 'kysely';
import {
  assertWriterOpen,
  enqueue,
  liveWriter,
  loseLease,
  WRITER_LEASE_PREFIX,
} from './live-writer.js';
import { type LiveWriter, type PgStoreHost, runPg } from './store-host.js';

/** Appends items to a thread through its live writer (see this file's header). */
export async function appendPgItems(
  host: PgStoreHost,
  params: AppendThreadItemsParams,
): Promise<void> {
  const writer = liveWriter(host, params.threadId);
  const items = persistedRolloutItems(params.items);
  if (items.length === 0) return;
  // Stamped when accepted, as the rollout recorder stamps a line when it is recorded.
  const atMs = Date.now();
  await enqueue(writer, async () => {
    assertWriterOpen(writer);
    if (!writer.materialized) {
      writer.pending.push(...structuredClone(items).map((item) => ({ item, atMs })));
      writer.hasAppends = true;
      return;
    }
    await appendFenced(host, writer, items, atMs);
  });
}

/**
 * The hot path: one statement (so one round trip and one implicit transaction) that renews
 * the writer lease, bumps the item counter only if the lease is still ours, and inserts the
 * batch after it. Zero rows inserted means the lease was lost (or the thread deleted).
 */
async function appendFenced(
  host: PgStoreHost,
  writer: LiveWriter,
  items: readonly RolloutItem[],
  atMs: number,
): Promise<void> {
  const now = Date.now();
  const json = items.map((item) => JSON.stringify(item));
  const leaseName = WRITER_LEASE_PREFIX + writer.threadId;
  const inserted = await runPg(async () => {
    const result = await sql<{ inserted: string }>`
      WITH lease AS (
        UPDATE leases SET heartbeat_at_ms = ${now}, expires_at_ms = ${now + host.leaseMs}
        WHERE name = ${leaseName} AND owner_id = ${host.owner.id}
        RETURNING 1
      ), bump AS (
        UPDATE thread_store_threads SET item_count = item_count + ${json.length}
        WHERE thread_id = ${writer.threadId} AND EXISTS (SELECT 1 FROM lease)
        RETURNING item_count
      ), rows AS (
        INSERT INTO thread_store_items (thread_id, seq, item_json, created_at_ms)
        SELECT ${writer.threadId}, bump.item_count - ${json.length} + batch.ord, batch.item,
          ${atMs}::bigint
        FROM bump, unnest(${json}::text[]) WITH ORDINALITY AS batch(item, ord)
        RETURNING 1
      )
      SELECT count(*)::text AS inserted FROM rows`.execute(host.db);
    return Number(result.rows[0]?.inserted ?? 0);
  });
  if (inserted === json.length) return;
  const lease = await runPg(() =>
    host.db
      .selectFrom('leases')
      .select('owner_id')
      .where('name', '=', leaseName)
      .executeTakeFirst(),
  );
  if (lease?.owner_id !== host.owner.id) loseLease(writer);
  throw ThreadStoreError.threadNotFound(writer.threadId);
}
