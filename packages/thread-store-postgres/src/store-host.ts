/**
 * What every `PostgresThreadStore` operation works on (the database, the state context, this
 * process's writers and lease identity, the history cache) and the reads they share: a thread's
 * metadata row, its store-only extras, and the mapping of driver errors to ThreadStoreErrors.
 */
import {
  type LeaseOwner,
  type StateContext,
  StateError,
  type ThreadMetadata,
  threadRowToMetadata,
} from '@skein/state';
import {
  type CreateThreadParams,
  type RolloutItem,
  type StoredThread,
  type ThreadId,
  type ThreadPersistenceMetadata,
  ThreadStoreError,
  toThreadStoreError,
} from '@skein/thread-store';
import type { Kysely, Transaction } from 'kysely';
import { storedThreadFromMetadata, type ThreadExtras } from './codec.js';
import type { HistoryLineCache } from './history-cache.js';
import type { PgStoreDatabase } from './schema.js';

/** The store's database handle. */
export type PgDb = Kysely<PgStoreDatabase>;
/** A transaction on it. */
export type PgTx = Transaction<PgStoreDatabase>;

/** An item with the instant the store accepted it (its rollout-line timestamp). */
export interface TimedItem {
  item: RolloutItem;
  atMs: number;
}

/** A thread opened for writing in this process. */
export interface LiveWriter {
  threadId: ThreadId;
  sessionId: string;
  /** Whether the thread's rows exist; until then items wait in `pending`. */
  materialized: boolean;
  pending: TimedItem[];
  /** True once items beyond the session meta were appended (flush then materializes). */
  hasAppends: boolean;
  closed: boolean;
  /** Set when another writer took the lease over (after ours expired): appends get Conflict. */
  leaseLost: boolean;
  create: CreateThreadParams | null;
  /** When `createThread` was called: the thread's creation time, even if written later. */
  createdAtMs: number;
  metadata: ThreadPersistenceMetadata;
  /** Serializes this writer's operations so appends keep their order. */
  tail: Promise<unknown>;
}

/** The store's state, handed to each operation file by the `PostgresThreadStore` dispatcher. */
export interface PgStoreHost {
  readonly db: PgDb;
  readonly ctx: StateContext;
  /** This process's identity in the `leases` table. */
  readonly owner: LeaseOwner;
  /** How long a writer lease lasts without renewal. */
  readonly leaseMs: number;
  readonly historyCache: HistoryLineCache;
  /** The live writers (create/resume) of this store, by thread. */
  readonly writers: Map<ThreadId, LiveWriter>;
  /** Threads whose create/resume is in flight here: a concurrent second one is a duplicate. */
  readonly opening: Set<ThreadId>;
}

/** Maps driver and state errors to ThreadStoreErrors (ours pass through). */
export async function runPg<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof StateError) throw ThreadStoreError.invalidRequest(error.message, error);
    throw toThreadStoreError(error, 'postgres');
  }
}

/** A thread's metadata row (locked for update inside a transaction when asked). */
export async function readThreadMetadata(
  db: PgDb | PgTx,
  threadId: string,
  forUpdate = false,
): Promise<ThreadMetadata | undefined> {
  let query = db.selectFrom('threads').selectAll().where('id', '=', threadId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? threadRowToMetadata(row) : undefined;
}

/** Refuses reading an archived thread unless the caller included archived ones. */
export function checkArchivedRead(
  meta: ThreadMetadata,
  includeArchived: boolean | undefined,
): void {
  if (meta.archived && includeArchived !== true) {
    throw ThreadStoreError.invalidRequest(`thread ${meta.id} is archived`);
  }
}

/** The store-only columns (token usage, extra config) of the given threads. */
export async function readThreadExtras(
  db: PgDb,
  ids: readonly string[],
): Promise<Map<string, ThreadExtras>> {
  const out = new Map<string, ThreadExtras>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('thread_store_threads')
    .select(['thread_id', 'token_usage_json', 'extra_config_json'])
    .where('thread_id', 'in', [...ids])
    .execute();
  for (const row of rows) {
    out.set(row.thread_id, {
      tokenUsageJson: row.token_usage_json,
      extraConfigJson: row.extra_config_json,
    });
  }
  return out;
}

/** A metadata row with its extras, as the store returns threads. */
export async function storedThreadOf(db: PgDb, meta: ThreadMetadata): Promise<StoredThread> {
  const extras = await runPg(() => readThreadExtras(db, [meta.id]));
  return storedThreadFromMetadata(meta, extras.get(meta.id));
}
