import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { executeShaped } from './compiled-shapes.js';
import type { StateContext } from './context.js';
import { StateError } from './errors.js';
import type { StateDatabase } from './schema.js';
import { SIDECAR_SCHEMA } from './sidecar/recency.js';
import { assertWritable } from './threads/write.js';
import { writeTransaction } from './transactions.js';

/**
 * Read receipts as Codex 0.169 keeps them in `thread_read_receipts` (spec codex-db-effects §3).
 * A thread with no row reads as read, at revision `initial:<id>`. `firstUnread` is `null`
 * (read), `threadStart` (marked unread from the start: `''` in the column) or a turn id.
 */
export type FirstUnread = null | { type: 'threadStart' } | { type: 'turn'; turnId: string };

/**
 * A thread's read receipt: the first unread point (null when read) and the revision a compare-and-
 * set update names.
 */
export interface ReadState {
  firstUnread: FirstUnread;
  revision: string;
}

/** The read state of a thread with no receipt row: read, at revision `initial:<id>`. */
export function initialReadState(threadId: string): ReadState {
  return { firstUnread: null, revision: `initial:${threadId}` };
}

/**
 * Whether read receipts can be kept: in Codex's `thread_read_receipts` (0.169), or for a 0.131
 * DB in the sidecar's table of the same shape (what 0.169 would add when migrating it).
 */
export function hasReadReceipts(ctx: StateContext): boolean {
  return ctx.profile.tables.has('thread_read_receipts') || ctx.sidecar?.readReceipts === true;
}

/** The handle whose `thread_read_receipts` is the receipts table: Codex's, or the sidecar's. */
function receiptsIn<T extends Kysely<StateDatabase>>(db: T, ctx: StateContext): T {
  return ctx.profile.tables.has('thread_read_receipts')
    ? db
    : (db.withSchema(SIDECAR_SCHEMA) as unknown as T);
}

function decode(firstUnread: string | null): FirstUnread {
  if (firstUnread === null) return null;
  if (firstUnread === '') return { type: 'threadStart' };
  return { type: 'turn', turnId: firstUnread };
}

/** Read states of the given threads (those without a row read as `initial`). */
export async function readReadStates(
  ctx: StateContext,
  threadIds: readonly string[],
): Promise<Map<string, ReadState>> {
  const out = new Map<string, ReadState>();
  for (const id of threadIds) out.set(id, initialReadState(id));
  if (!hasReadReceipts(ctx)) return out;
  for (let i = 0; i < threadIds.length; i += 500) {
    const chunk = threadIds.slice(i, i + 500);
    if (chunk.length === 0) break;
    // Compiled once per chunk length (a list page asks the same query every time).
    const where = ctx.profile.tables.has('thread_read_receipts') ? 'main' : SIDECAR_SCHEMA;
    const rows = await executeShaped(ctx.db, `receipts|${where}|${chunk.length}`, chunk, (ids) =>
      receiptsIn(ctx.db, ctx)
        .selectFrom('thread_read_receipts')
        .select(['thread_id', 'first_unread_turn', 'revision'])
        .where('thread_id', 'in', ids as string[]),
    );
    for (const row of rows) {
      out.set(row.thread_id, {
        firstUnread: decode(row.first_unread_turn),
        revision: row.revision,
      });
    }
  }
  return out;
}

/**
 * Publishes a completed turn (what 0.169 does when a turn ends): inserts `(turn, new revision,
 * turn)` if the thread row exists; on an existing receipt keeps a non-null first unread turn
 * and moves the revision and last published turn, only when the turn differs from the last one
 * published (so publishing twice changes nothing). No-op on a DB without receipts.
 */
export async function publishTurnReadReceipt(
  ctx: StateContext,
  threadId: string,
  turnId: string,
): Promise<void> {
  if (!hasReadReceipts(ctx)) return;
  assertWritable(ctx);
  const revision = randomUUID();
  await writeTransaction(ctx, async (trx) => {
    const thread = await trx
      .selectFrom('threads')
      .select('id')
      .where('id', '=', threadId)
      .executeTakeFirst();
    if (thread === undefined) return;
    await receiptsIn(trx, ctx)
      .insertInto('thread_read_receipts')
      .values({
        thread_id: threadId,
        first_unread_turn: turnId,
        revision,
        last_published_turn: turnId,
      })
      .onConflict((oc) =>
        oc
          .column('thread_id')
          .doUpdateSet((eb) => ({
            first_unread_turn: eb.fn.coalesce(
              eb.ref('thread_read_receipts.first_unread_turn'),
              eb.ref('excluded.first_unread_turn'),
            ),
            revision: eb.ref('excluded.revision'),
            last_published_turn: eb.ref('excluded.last_published_turn'),
          }))
          .where((eb) =>
            eb.or([
              eb('thread_read_receipts.last_published_turn', 'is', null),
              eb('thread_read_receipts.last_published_turn', '<>', turnId),
            ]),
          ),
      )
      .execute();
  });
}

/** What `updateReadState` does: mark the thread `read`, or `unread` from its start. */
export type ReadStateOperation = 'read' | 'unread';

/**
 * Marks a thread read or unread (from its start) if its receipt is still at
 * `expectedRevision` (`initial:<id>` when it has none); a stale revision fails with
 * `Conflict` ("read state changed") and writes nothing. Returns the new state.
 */
export async function updateReadState(
  ctx: StateContext,
  threadId: string,
  operation: ReadStateOperation,
  expectedRevision: string | null,
): Promise<ReadState> {
  if (!hasReadReceipts(ctx)) {
    throw new StateError('ReadOnly', 'this state DB keeps no read receipts');
  }
  assertWritable(ctx);
  const firstUnread = operation === 'read' ? null : '';
  const revision = randomUUID();
  return writeTransaction(ctx, async (db) => {
    const trx = receiptsIn(db, ctx);
    const row = await trx
      .selectFrom('thread_read_receipts')
      .select(['revision'])
      .where('thread_id', '=', threadId)
      .executeTakeFirst();
    const current = row?.revision ?? `initial:${threadId}`;
    if (expectedRevision !== null && expectedRevision !== current) {
      throw new StateError('Conflict', 'read state changed');
    }
    if (row === undefined) {
      await trx
        .insertInto('thread_read_receipts')
        .values({
          thread_id: threadId,
          first_unread_turn: firstUnread,
          revision,
          last_published_turn: null,
        })
        .execute();
    } else {
      await trx
        .updateTable('thread_read_receipts')
        .set({ first_unread_turn: firstUnread, revision })
        .where('thread_id', '=', threadId)
        .execute();
    }
    return { firstUnread: decode(firstUnread), revision };
  });
}
