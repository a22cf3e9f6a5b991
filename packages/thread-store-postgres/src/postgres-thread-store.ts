/**
 * `PostgresThreadStore`: a ThreadStore whose history and metadata live in PostgreSQL, shared by
 * any number of processes. Metadata uses @skein/state's `threads` schema and queries (the same
 * Kysely layer as the SQLite index, on the PostgreSQL dialect); history is an append-only
 * table ordered by a dense per-thread sequence.
 *
 * Each operation lives in a file of its own (create-thread.ts, append-items.ts, read-thread.ts,
 * ...) whose header says which transaction covers what; this class opens, closes and dispatches.
 *
 * Concurrency model:
 * - A live writer (create/resume) holds a lease named `thread-writer:<id>` in the shared
 *   `leases` table. A second writer to the same thread, in this or another process, is refused
 *   (`Conflict`) until the first shuts down, discards, or its lease runs out (or it dies).
 * - Every append commits in one transaction that first renews the lease (fencing: a writer
 *   whose lease was taken over cannot append) and bumps the thread's item counter under its row
 *   lock, then inserts all items in multi-row INSERTs. Different threads touch different rows,
 *   so their appends never wait on each other.
 */
import {
  buildMissingPgSearchIndexes,
  createStateContext,
  currentLeaseOwner,
  MAX_THREAD_PAGE_SIZE,
  type StateContext,
  type StateDatabase,
  seedStateClocks,
} from '@skein/state';
import {
  type AppendThreadItemsParams,
  type ArchiveThreadParams,
  type CreateThreadParams,
  type DeleteThreadParams,
  type ItemPage,
  type ListItemsParams,
  type ListThreadsParams,
  type ListTurnsParams,
  type LoadThreadHistoryParams,
  type ReadThreadByRolloutPathParams,
  type ReadThreadParams,
  type ResumeThreadParams,
  type SearchThreadsParams,
  type StoredThread,
  type StoredThreadHistory,
  type ThreadId,
  type ThreadPage,
  type ThreadSearchPage,
  ThreadStoreBase,
  ThreadStoreError,
  type TurnPage,
  toThreadStoreError,
  type UpdateThreadMetadataParams,
} from '@skein/thread-store';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { appendPgItems } from './append-items.js';
import { archivePgThread } from './archive-thread.js';
import { createPgThread } from './create-thread.js';
import { deletePgThread } from './delete-thread.js';
import { HistoryLineCache } from './history-cache.js';
import { listPgSpawnDescendants, listPgThreads } from './list-threads.js';
import { enqueue, releaseWriter, renewWriterLeases } from './live-writer.js';
import { flushPgThread, persistPgThread } from './materialize-thread.js';
import { migratePostgresThreadStore } from './migrate.js';
import { listPgItems, listPgTurns } from './page-history.js';
import { loadPgHistory, readPgThread } from './read-thread.js';
import { resumePgThread } from './resume-thread.js';
import type { PgStoreDatabase } from './schema.js';
import { searchPostgresThreads } from './search-threads.js';
import { discardPgThread, shutdownPgThread } from './shutdown-thread.js';
import { type PgDb, type PgStoreHost, readThreadExtras, runPg } from './store-host.js';
import { unarchivePgThread } from './unarchive-thread.js';
import { updatePgThreadMetadata } from './update-thread-metadata.js';

/**
 * How `PostgresThreadStore.open` connects (a connection string, or a pool you own), migrates,
 * leases writers and caches histories.
 */
export interface PostgresThreadStoreOptions {
  /** `postgres://user@host:port/db`. Ignored when `pool` is given. */
  connectionString?: string;
  /** A pool the caller owns (not closed by `close()`). */
  pool?: pg.Pool;
  /** Pool size when the store builds its own pool. Default 10. */
  maxConnections?: number;
  /** Provider written for threads created without one. Default `openai`. */
  defaultModelProvider?: string;
  /** How long a writer lease lasts without renewal. Default 30 s; renewed every third of it. */
  writerLeaseMs?: number;
  /** Run migrations on open (default true). */
  migrate?: boolean;
  /** Told about errors of idle pooled connections (they are discarded and replaced). */
  onPoolError?: (error: Error) => void;
  /**
   * Budget (JSON bytes) for parsed histories kept between listTurns/listItems pages, so paging
   * a long thread reads only its new rows. Default 32 MiB (parsed, about 2-3x that in heap);
   * 0 turns the cache off.
   */
  historyCacheBytes?: number;
  /**
   * After migrating, build in the background any search trigram index migration 0006 could not
   * (pg_trgm installed since), without blocking writers. Default: whenever `migrate` is on.
   */
  buildSearchIndexes?: boolean;
}

/** What the background search-index build did: indexes built, or why it stopped. */
export interface SearchIndexBuild {
  built: string[];
  error: Error | null;
}

/** Largest page `listThreads` returns; bigger requests are clamped. */
export const MAX_PAGE_SIZE = MAX_THREAD_PAGE_SIZE;
const DEFAULT_HISTORY_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * A `ThreadStore` on PostgreSQL, shared by any number of processes: metadata in `@skein/state`'s
 * `threads` schema, history in an append-only table. One writer per thread through a fenced lease;
 * each append is one transaction. Open with `PostgresThreadStore.open`.
 */
export class PostgresThreadStore extends ThreadStoreBase {
  private readonly host: PgStoreHost;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  /** The background search-index build started by `open` (settles, never rejects). */
  searchIndexBuild: Promise<SearchIndexBuild> = Promise.resolve({ built: [], error: null });
  /** Server pid of the connection building search indexes, while it builds. */
  private searchIndexBuilder: number | null = null;

  private constructor(
    readonly db: PgDb,
    ctx: StateContext,
    private readonly ownsPool: pg.Pool | null,
    leaseMs: number,
    historyCacheBytes: number,
  ) {
    super();
    this.host = {
      db,
      ctx,
      owner: currentLeaseOwner(),
      leaseMs,
      historyCache: new HistoryLineCache(historyCacheBytes),
      writers: new Map(),
      opening: new Set(),
    };
    this.heartbeat = setInterval(
      () => void renewWriterLeases(this.host),
      Math.max(50, leaseMs / 3),
    );
    this.heartbeat.unref();
  }

  /** Connects, migrates (unless told not to) and returns a store ready for use. */
  static async open(options: PostgresThreadStoreOptions): Promise<PostgresThreadStore> {
    let ownsPool: pg.Pool | null = null;
    let pool = options.pool;
    if (!pool) {
      if (!options.connectionString) {
        throw ThreadStoreError.invalidRequest('postgres thread store needs a connection string');
      }
      ownsPool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.maxConnections ?? 10,
      });
      // An idle connection the server drops (restart, failover, terminate) surfaces as a pool
      // 'error' event; unhandled, it would crash the process. The pool discards that client
      // and the next query opens a new one.
      ownsPool.on('error', (error) => options.onPoolError?.(error));
      // A checked-out client (a transaction, the search-index build) can lose its connection
      // between statements; pg then emits 'error' on the client, which the pool does not
      // listen to while it is checked out, and unhandled it would crash the process. The
      // statement that uses it next fails instead, and the pool drops it on release.
      ownsPool.on('connect', (client) => client.on('error', () => {}));
      pool = ownsPool;
    }
    const db = new Kysely<PgStoreDatabase>({
      dialect: new PostgresDialect({ pool }),
    });
    try {
      if (options.migrate ?? true) await migratePostgresThreadStore(db);
      const ctx = createStateContext(db as unknown as Kysely<StateDatabase>, {
        dialect: 'postgres',
        defaultProvider: options.defaultModelProvider ?? 'openai',
      });
      await seedStateClocks(ctx);
      const store = new PostgresThreadStore(
        db,
        ctx,
        ownsPool,
        options.writerLeaseMs ?? 30_000,
        options.historyCacheBytes ?? DEFAULT_HISTORY_CACHE_BYTES,
      );
      if (options.buildSearchIndexes ?? options.migrate ?? true) {
        // Not awaited: on a big table the build takes a while and searches work meanwhile.
        store.searchIndexBuild = buildMissingPgSearchIndexes(db, {
          onBuilding: (pid) => {
            store.searchIndexBuilder = pid;
          },
        }).then(
          (built) => ({ built, error: null }),
          (error: unknown) => ({
            built: [],
            error: error instanceof Error ? error : new Error(String(error)),
          }),
        );
      }
      return store;
    } catch (error) {
      await db.destroy().catch(() => {});
      throw toThreadStoreError(error, 'failed to open postgres thread store');
    }
  }

  /** Releases every writer lease this store holds and closes its own pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const writer of [...this.host.writers.values()]) {
      await enqueue(writer, () => releaseWriter(this.host, writer)).catch(() => {});
    }
    // A search-index build in progress is cancelled (the next open starts it again) rather
    // than awaited: on a big table it can take minutes.
    const builder = this.searchIndexBuilder;
    if (builder !== null) {
      await sql`select pg_cancel_backend(${builder})`.execute(this.db).catch(() => {});
    }
    await this.searchIndexBuild;
    if (this.ownsPool) await this.db.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Live writers (create-thread.ts, resume-thread.ts, append-items.ts, materialize-thread.ts,
  // shutdown-thread.ts)

  async createThread(params: CreateThreadParams): Promise<void> {
    await createPgThread(this.host, params);
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    await resumePgThread(this.host, params);
  }

  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    await appendPgItems(this.host, params);
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    await persistPgThread(this.host, threadId);
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    await flushPgThread(this.host, threadId);
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    await shutdownPgThread(this.host, threadId);
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    await discardPgThread(this.host, threadId);
  }

  // -------------------------------------------------------------------------------------------
  // Reads (read-thread.ts, page-history.ts, list-threads.ts, search-threads.ts)

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    return loadPgHistory(this.host, params);
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    return readPgThread(this.host, params);
  }

  /**
   * Turns and items page through @skein/thread-store's shared pagers, so cursors, views and
   * turn ids are the local store's. Each page reads the thread's history in one ordered query.
   */
  override async listTurns(params: ListTurnsParams): Promise<TurnPage> {
    return listPgTurns(this.host, params);
  }

  override async listItems(params: ListItemsParams): Promise<ItemPage> {
    return listPgItems(this.host, params);
  }

  async readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    throw ThreadStoreError.invalidRequest(
      `postgres thread store has no rollout files: ${params.rolloutPath}`,
    );
  }

  /** The spawn edges (open and closed), through the state package's query. */
  async listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[]> {
    return listPgSpawnDescendants(this.host, threadId);
  }

  /** The state package's listing query (the SQLite index's), on this database's dialect. */
  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    return listPgThreads(this.host, params);
  }

  /**
   * Content search over the visible messages of each thread's history (see search-threads.ts).
   */
  override async searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage> {
    return runPg(() =>
      searchPostgresThreads(
        { db: this.db, extrasFor: (ids) => readThreadExtras(this.db, ids) },
        params,
      ),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Writes to written threads (update-thread-metadata.ts, archive-thread.ts,
  // unarchive-thread.ts, delete-thread.ts)

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    return updatePgThreadMetadata(this.host, params);
  }

  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    await archivePgThread(this.host, params);
  }

  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    return unarchivePgThread(this.host, params);
  }

  async deleteThread(params: DeleteThreadParams): Promise<void> {
    await deletePgThread(this.host, params);
  }
}
