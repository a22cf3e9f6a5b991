/**
 * `PostgresThreadStore.persistThread` and `flushThread`: materialize a created thread, writing
 * its `threads` row (with its spawn edge), its `thread_store_threads` row and every item its
 * writer held so far. Also used by shutdown and by a metadata patch on an unwritten thread.
 *
 * Crash safety: one transaction, which first renews the writer lease (a writer whose lease was
 * taken over writes nothing), covers all of it: a crash leaves either no thread or the thread
 * with every pending item.
 */
import { encodeSessionSource } from '@skein/protocol';
import {
  defaultThreadMetadata,
  insertSpawnEdge,
  insertThreadIfAbsent,
  type StateDatabase,
  type ThreadMetadata,
} from '@skein/state';
import {
  type CreateThreadParams,
  SKEIN_CLI_VERSION,
  spawnFactsOf,
  type ThreadHistoryMode,
  type ThreadId,
  ThreadStoreError,
} from '@skein/thread-store';
import type { Kysely } from 'kysely';
import { encodePermissionProfile } from './codec.js';
import { assertWriterOpen, enqueue, inWriterTransaction, liveWriter } from './live-writer.js';
import type { LiveWriter, PgStoreHost, PgTx, TimedItem } from './store-host.js';

/** Rows per INSERT statement (4 parameters each, well under PostgreSQL's 65535). */
const INSERT_CHUNK = 1000;

/** Writes the thread now, even with nothing but its session meta. */
export async function persistPgThread(host: PgStoreHost, threadId: ThreadId): Promise<void> {
  const writer = liveWriter(host, threadId);
  await enqueue(writer, () => materializeWriter(host, writer));
}

/** Writes the thread if items were appended to it; a thread with none stays unwritten. */
export async function flushPgThread(host: PgStoreHost, threadId: ThreadId): Promise<void> {
  const writer = liveWriter(host, threadId);
  await enqueue(writer, async () => {
    if (!writer.materialized && writer.hasAppends) await materializeWriter(host, writer);
  });
}

/** Writes the thread's rows and every pending item in one transaction. */
export async function materializeWriter(host: PgStoreHost, writer: LiveWriter): Promise<void> {
  assertWriterOpen(writer);
  if (writer.materialized) return;
  const create = writer.create;
  const pending = writer.pending;
  await inWriterTransaction(host, writer, async (trx) => {
    const ctx = { ...host.ctx, db: trx as unknown as Kysely<StateDatabase> };
    if (create) {
      await insertThreadIfAbsent(
        ctx,
        initialMetadata(create, writer.createdAtMs, host.ctx.defaultProvider),
      );
      const parent = spawnFactsOf(create).parentThreadId;
      if (parent) await insertSpawnEdge(ctx, parent, create.threadId);
    }
    await trx
      .insertInto('thread_store_threads')
      .values({
        thread_id: writer.threadId,
        session_id: writer.sessionId,
        item_count: 0,
        token_usage_json: null,
        extra_config_json: create?.extraConfig ? JSON.stringify(create.extraConfig) : null,
      })
      .onConflict((oc) => oc.column('thread_id').doNothing())
      .execute();
    await appendRows(trx, writer.threadId, pending);
  });
  writer.materialized = true;
  writer.pending = [];
}

/** Inserts items after the thread's current last item; caller holds the transaction. */
async function appendRows(trx: PgTx, threadId: string, items: readonly TimedItem[]): Promise<void> {
  if (items.length === 0) return;
  const bumped = await trx
    .updateTable('thread_store_threads')
    .set((eb) => ({ item_count: eb(eb.ref('item_count'), '+', items.length) }))
    .where('thread_id', '=', threadId)
    .returning('item_count')
    .executeTakeFirst();
  if (!bumped) throw ThreadStoreError.threadNotFound(threadId);
  const first = Number(bumped.item_count) - items.length + 1;
  for (let start = 0; start < items.length; start += INSERT_CHUNK) {
    const chunk = items.slice(start, start + INSERT_CHUNK);
    await trx
      .insertInto('thread_store_items')
      .values(
        chunk.map((entry, index) => ({
          thread_id: threadId,
          seq: first + start + index,
          item_json: JSON.stringify(entry.item),
          created_at_ms: entry.atMs,
        })),
      )
      .execute();
  }
}

/** The row a new thread starts with: facts from create, no derived metadata (no preview). */
function initialMetadata(
  params: CreateThreadParams,
  createdAtMs: number,
  defaultProvider: string,
): ThreadMetadata {
  const now = createdAtMs;
  const meta = defaultThreadMetadata(
    params.threadId,
    '',
    now,
    encodeSessionSource(params.source),
    params.metadata.modelProvider || defaultProvider,
  );
  const spawn = spawnFactsOf(params);
  return {
    ...meta,
    cwd: params.metadata.cwd ?? '',
    cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
    threadSource: params.threadSource ?? null,
    agentNickname: spawn.agentNickname,
    agentRole: spawn.agentRole,
    agentPath: spawn.agentPath,
    memoryMode: params.metadata.memoryMode,
    parentThreadId: spawn.parentThreadId,
    forkedFromId: params.forkedFromId ?? null,
    historyMode: (params.historyMode ?? 'legacy') satisfies ThreadHistoryMode,
    originator: params.originator,
    sandboxPolicy: encodePermissionProfile({ type: 'read-only' }),
  };
}
