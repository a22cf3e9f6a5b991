/**
 * `PostgresThreadStore`: a ThreadStore whose history and metadata live in PostgreSQL, shared by
 * any number of processes. Metadata uses @skein/state's `threads` schema and queries (the same
 * Kysely layer as the SQLite index, on the PostgreSQL dialect); history is an append-only
 * table ordered by a dense per-thread sequence.
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
import { decodeThreadCursor, encodeSessionSource } from '@skein/protocol';
import {
  buildMissingPgSearchIndexes,
  claimLease,
  createStateContext,
  currentLeaseOwner,
  defaultThreadMetadata,
  heartbeatLease,
  insertSpawnEdge,
  insertThreadIfAbsent,
  type LeaseOwner,
  listChildThreads,
  listDescendantThreads,
  listThreads as listStateThreads,
  MAX_THREAD_PAGE_SIZE,
  releaseLease,
  type StateContext,
  type StateDatabase,
  StateError,
  seedStateClocks,
  type ThreadMetadata,
  threadRowToMetadata,
} from '@skein/state';
import {
  type AppendThreadItemsParams,
  type ArchiveThreadParams,
  assertThreadMetadataPatchBounds,
  type CreateThreadParams,
  type DeleteThreadParams,
  type ItemPage,
  type ListItemsParams,
  type ListThreadsParams,
  type ListTurnsParams,
  type LoadThreadHistoryParams,
  pageItems,
  pageTurns,
  persistedRolloutItems,
  type ReadThreadByRolloutPathParams,
  type ReadThreadParams,
  type ResumeThreadParams,
  type RolloutItem,
  type RolloutLine,
  rejectPaginatedHistoryMode,
  type SearchThreadsParams,
  SKEIN_CLI_VERSION,
  type StoredThread,
  type StoredThreadHistory,
  sessionMetaForCreate,
  spawnFactsOf,
  type ThreadHistoryMode,
  type ThreadId,
  type ThreadPage,
  type ThreadPersistenceMetadata,
  type ThreadSearchPage,
  ThreadStoreBase,
  ThreadStoreError,
  type TurnPage,
  toThreadStoreError,
  type UpdateThreadMetadataParams,
} from '@skein/thread-store';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { encodePermissionProfile, storedThreadFromMetadata, type ThreadExtras } from './codec.js';
import { HistoryLineCache } from './history-cache.js';
import { migratePostgresThreadStore } from './migrate.js';
import type { PgStoreDatabase } from './schema.js';
import { searchPostgresThreads } from './search-threads.js';

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
/** Rows per INSERT statement (4 parameters each, well under PostgreSQL's 65535). */
const INSERT_CHUNK = 1000;
const LEASE_PREFIX = 'thread-writer:';
const DEFAULT_HISTORY_CACHE_BYTES = 32 * 1024 * 1024;

/** An item with the instant the store accepted it (its rollout-line timestamp). */
interface TimedItem {
  item: RolloutItem;
  atMs: number;
}

interface LiveWriter {
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

type Db = Kysely<PgStoreDatabase>;
type Tx = Transaction<PgStoreDatabase>;

/**
 * A `ThreadStore` on PostgreSQL, shared by any number of processes: metadata in `@skein/state`'s
 * `threads` schema, history in an append-only table. One writer per thread through a fenced lease;
 * each append is one transaction. Open with `PostgresThreadStore.open`.
 */
export class PostgresThreadStore extends ThreadStoreBase {
  private readonly writers = new Map<ThreadId, LiveWriter>();
  /** Threads whose create/resume is in flight here: a concurrent second one is a duplicate. */
  private readonly opening = new Set<ThreadId>();
  private readonly owner: LeaseOwner = currentLeaseOwner();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly historyCache: HistoryLineCache;
  private closed = false;

  /** The background search-index build started by `open` (settles, never rejects). */
  searchIndexBuild: Promise<SearchIndexBuild> = Promise.resolve({ built: [], error: null });
  /** Server pid of the connection building search indexes, while it builds. */
  private searchIndexBuilder: number | null = null;

  private constructor(
    readonly db: Db,
    private readonly ctx: StateContext,
    private readonly ownsPool: pg.Pool | null,
    private readonly leaseMs: number,
    historyCacheBytes: number,
  ) {
    super();
    this.historyCache = new HistoryLineCache(historyCacheBytes);
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(50, leaseMs / 3));
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
    for (const writer of [...this.writers.values()]) {
      await this.enqueue(writer, () => this.release(writer)).catch(() => {});
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
  // Live writers

  async createThread(params: CreateThreadParams): Promise<void> {
    rejectPaginatedHistoryMode(params.historyMode);
    const threadId = params.threadId;
    this.refuseDuplicateWriter(threadId);
    this.opening.add(threadId);
    try {
      await this.openForCreate(params);
    } finally {
      this.opening.delete(threadId);
    }
  }

  private async openForCreate(params: CreateThreadParams): Promise<void> {
    const threadId = params.threadId;
    const existing = await this.run(() =>
      this.db.selectFrom('threads').select('id').where('id', '=', threadId).executeTakeFirst(),
    );
    if (existing) throw ThreadStoreError.conflict(`thread ${threadId} already exists`);
    await this.claimWriterLease(threadId);
    const createdAtMs = Math.trunc(params.createdAtMs ?? Date.now());
    this.writers.set(threadId, {
      threadId,
      sessionId: params.sessionId ?? threadId,
      materialized: false,
      pending: [{ item: sessionMetaItem(params, createdAtMs), atMs: createdAtMs }],
      hasAppends: false,
      closed: false,
      leaseLost: false,
      create: params,
      createdAtMs,
      metadata: params.metadata,
      tail: Promise.resolve(),
    });
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    const threadId = params.threadId;
    if (params.rolloutPath != null) {
      throw ThreadStoreError.invalidRequest(
        'postgres thread store has no rollout files; resume by thread id',
      );
    }
    this.refuseDuplicateWriter(threadId);
    this.opening.add(threadId);
    try {
      await this.openForResume(params);
    } finally {
      this.opening.delete(threadId);
    }
  }

  private async openForResume(params: ResumeThreadParams): Promise<void> {
    const threadId = params.threadId;
    const row = await this.run(() => this.threadMetadata(this.db, threadId));
    if (!row) throw ThreadStoreError.threadNotFound(threadId);
    if (row.archived && params.includeArchived !== true) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
    }
    rejectPaginatedHistoryMode(row.historyMode);
    await this.claimWriterLease(threadId);
    const session = await this.run(() =>
      this.db
        .selectFrom('thread_store_threads')
        .select('session_id')
        .where('thread_id', '=', threadId)
        .executeTakeFirst(),
    );
    this.writers.set(threadId, {
      threadId,
      sessionId: session?.session_id ?? threadId,
      materialized: true,
      pending: [],
      hasAppends: false,
      closed: false,
      leaseLost: false,
      create: null,
      createdAtMs: row.createdAtMs,
      metadata: params.metadata,
      tail: Promise.resolve(),
    });
  }

  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    const writer = this.liveWriter(params.threadId);
    const items = persistedRolloutItems(params.items);
    if (items.length === 0) return;
    // Stamped when accepted, as the rollout recorder stamps a line when it is recorded.
    const atMs = Date.now();
    await this.enqueue(writer, async () => {
      this.assertOpen(writer);
      if (!writer.materialized) {
        writer.pending.push(...structuredClone(items).map((item) => ({ item, atMs })));
        writer.hasAppends = true;
        return;
      }
      await this.appendFenced(writer, items, atMs);
    });
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    const writer = this.liveWriter(threadId);
    await this.enqueue(writer, () => this.materialize(writer));
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    const writer = this.liveWriter(threadId);
    await this.enqueue(writer, async () => {
      if (!writer.materialized && writer.hasAppends) await this.materialize(writer);
    });
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    const writer = this.writers.get(threadId);
    if (!writer) return;
    await this.enqueue(writer, async () => {
      if (!writer.materialized && writer.hasAppends && !writer.closed) {
        await this.materialize(writer);
      }
      await this.release(writer);
    });
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    const writer = this.writers.get(threadId);
    if (!writer) return;
    // Refuse further appends at once, then release after whatever is in flight.
    writer.closed = true;
    this.writers.delete(threadId);
    await this.enqueue(writer, () => this.release(writer)).catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    const { threadId } = params;
    const meta = await this.run(() => this.threadMetadata(this.db, threadId));
    if (!meta) {
      const writer = this.writers.get(threadId);
      if (writer && !writer.materialized) {
        return { threadId, items: structuredClone(writer.pending.map((entry) => entry.item)) };
      }
      throw ThreadStoreError.threadNotFound(threadId);
    }
    this.checkArchivedRead(meta, params.includeArchived);
    rejectPaginatedHistoryMode(meta.historyMode);
    return { threadId, items: await this.run(() => this.historyItems(threadId)) };
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    const { threadId } = params;
    const meta = await this.run(() => this.threadMetadata(this.db, threadId));
    if (!meta) throw ThreadStoreError.threadNotFound(threadId);
    this.checkArchivedRead(meta, params.includeArchived);
    const thread = await this.storedThread(meta);
    if (params.includeHistory === true) {
      rejectPaginatedHistoryMode(meta.historyMode);
      thread.history = { threadId, items: await this.run(() => this.historyItems(threadId)) };
    }
    return thread;
  }

  /**
   * Turns and items page through @skein/thread-store's shared pagers, so cursors, views and
   * turn ids are the local store's. Each page reads the thread's history in one ordered query.
   */
  override async listTurns(params: ListTurnsParams): Promise<TurnPage> {
    const lines = await this.historyLines(params.threadId, params.includeArchived);
    const page = pageTurns(lines, {
      cursor: params.cursor,
      pageSize: params.pageSize,
      direction: params.sortDirection ?? 'asc',
      view: params.itemsView ?? 'summary',
    });
    // The turns' items share payload objects with the cache: the caller gets its own copy.
    return structuredClone(page);
  }

  override async listItems(params: ListItemsParams): Promise<ItemPage> {
    const lines = await this.historyLines(params.threadId, params.includeArchived);
    return pageItems(lines, {
      turnId: params.turnId,
      cursor: params.cursor,
      pageSize: params.pageSize,
      direction: params.sortDirection ?? 'asc',
    });
  }

  async readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    throw ThreadStoreError.invalidRequest(
      `postgres thread store has no rollout files: ${params.rolloutPath}`,
    );
  }

  /** The spawn edges (open and closed), through the state package's query. */
  async listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[]> {
    return this.run(async () =>
      (await listDescendantThreads(this.ctx, threadId)).map((edge) => edge.childId),
    );
  }

  /** The state package's listing query (the SQLite index's), on this database's dialect. */
  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    if (!(params.pageSize >= 1)) {
      throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
    }
    if (params.cursor && decodeThreadCursor(params.cursor) === null) {
      throw ThreadStoreError.invalidRequest(`invalid cursor: ${params.cursor}`);
    }
    return this.run(async () => {
      let threadIds: string[] | null = null;
      const relation = params.relationFilter;
      if (relation != null) {
        const edges =
          relation.kind === 'directChildrenOf'
            ? await listChildThreads(this.ctx, relation.threadId)
            : await listDescendantThreads(this.ctx, relation.threadId);
        threadIds = edges.map((edge) => edge.childId);
      }
      const page = await listStateThreads(this.ctx, {
        pageSize: params.pageSize,
        cursor: params.cursor ?? null,
        sortKey: params.sortKey ?? 'createdAt',
        sortDirection: params.sortDirection ?? 'desc',
        archived: params.archived === true,
        sources: (params.allowedSources ?? []).map(encodeSessionSource),
        modelProviders: params.modelProviders ?? null,
        cwds: params.cwdFilters ?? null,
        searchTerm: params.searchTerm ?? null,
        threadIds,
      });
      const extras = await this.extrasFor(page.items.map((meta) => meta.id));
      return {
        items: page.items.map((meta) => storedThreadFromMetadata(meta, extras.get(meta.id))),
        nextCursor: page.nextCursor,
        backwardsCursor: page.backwardsCursor,
      };
    });
  }

  /**
   * Content search over the visible messages of each thread's history (see search-threads.ts).
   */
  override async searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage> {
    return this.run(() =>
      searchPostgresThreads({ db: this.db, extrasFor: (ids) => this.extrasFor(ids) }, params),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    assertThreadMetadataPatchBounds(params.patch);
    const { threadId, patch } = params;
    const writer = this.writers.get(threadId);
    if (writer && !writer.materialized) {
      // The thread exists for its writer; give the patch a row to land on.
      await this.enqueue(writer, () => this.materialize(writer));
    }
    const meta = await this.run(() =>
      this.db.transaction().execute(async (trx) => {
        const current = await this.threadMetadata(trx, threadId, true);
        if (!current) return undefined;
        this.checkArchivedRead(current, params.includeArchived);
        const set: Record<string, unknown> = {};
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.preview !== undefined) set.preview = patch.preview;
        if (patch.title !== undefined) set.title = patch.title;
        if (patch.modelProvider !== undefined) set.model_provider = patch.modelProvider;
        if (patch.model !== undefined) set.model = patch.model;
        if (patch.reasoningEffort !== undefined) set.reasoning_effort = patch.reasoningEffort;
        if (patch.createdAtMs !== undefined) set.created_at_ms = Math.trunc(patch.createdAtMs);
        if (patch.updatedAtMs !== undefined) {
          set.updated_at_ms = this.ctx.updatedClock.allocate(patch.updatedAtMs);
        }
        if (patch.source !== undefined) set.source = encodeSessionSource(patch.source);
        if (patch.threadSource !== undefined) set.thread_source = patch.threadSource;
        if (patch.agentNickname !== undefined) set.agent_nickname = patch.agentNickname;
        if (patch.agentRole !== undefined) set.agent_role = patch.agentRole;
        if (patch.agentPath !== undefined) set.agent_path = patch.agentPath;
        if (patch.cwd !== undefined) set.cwd = patch.cwd;
        if (patch.cliVersion !== undefined) set.cli_version = patch.cliVersion;
        if (patch.approvalMode !== undefined) set.approval_mode = patch.approvalMode;
        if (patch.permissionProfile !== undefined) {
          set.sandbox_policy = encodePermissionProfile(patch.permissionProfile);
        }
        if (patch.tokenUsage !== undefined) {
          set.tokens_used = Math.max(0, Math.trunc(patch.tokenUsage.totalTokens));
        }
        if (patch.firstUserMessage !== undefined) {
          set.first_user_message = patch.firstUserMessage;
          // Preview falls back to the first user message (the SQLite index's rule).
          if (patch.preview === undefined && current.preview === '') {
            set.preview = patch.firstUserMessage;
          }
        }
        if (patch.gitInfo !== undefined) {
          if (patch.gitInfo.sha !== undefined) set.git_sha = patch.gitInfo.sha;
          if (patch.gitInfo.branch !== undefined) set.git_branch = patch.gitInfo.branch;
          if (patch.gitInfo.originUrl !== undefined) set.git_origin_url = patch.gitInfo.originUrl;
        }
        if (patch.memoryMode !== undefined) set.memory_mode = patch.memoryMode;
        if (patch.historyMode !== undefined) set.history_mode = patch.historyMode;
        let update = trx.updateTable('threads').where('id', '=', threadId);
        let changes = Object.keys(set).length;
        if (changes > 0) update = update.set(set as never);
        if (patch.advanceRecencyAtMs !== undefined) {
          const target = this.ctx.recencyClock.allocate(patch.advanceRecencyAtMs);
          update = update.set((eb) => ({
            recency_at_ms: eb
              .case()
              .when('recency_at_ms', '<', target)
              .then(eb.val(target))
              .else(eb.ref('recency_at_ms'))
              .end(),
          }));
          changes += 1;
        }
        if (changes > 0) await update.execute();
        if (patch.tokenUsage !== undefined) {
          await trx
            .updateTable('thread_store_threads')
            .set({ token_usage_json: JSON.stringify(patch.tokenUsage) })
            .where('thread_id', '=', threadId)
            .execute();
        }
        return this.threadMetadata(trx, threadId);
      }),
    );
    if (!meta) throw ThreadStoreError.threadNotFound(threadId);
    return this.storedThread(meta);
  }

  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    const { threadId } = params;
    const updated = await this.run(() =>
      this.db
        .updateTable('threads')
        .set((eb) => ({
          archived: 1,
          archived_at_ms: eb
            .case()
            .when('archived', '=', 1)
            .then(eb.ref('archived_at_ms'))
            .else(eb.val(Date.now()))
            .end(),
        }))
        .where('id', '=', threadId)
        .executeTakeFirst(),
    );
    if (Number(updated.numUpdatedRows) === 0) throw ThreadStoreError.threadNotFound(threadId);
  }

  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    const { threadId } = params;
    const updated = await this.run(() =>
      this.db
        .updateTable('threads')
        .set({ archived: 0, archived_at_ms: null })
        .where('id', '=', threadId)
        .executeTakeFirst(),
    );
    if (Number(updated.numUpdatedRows) === 0) throw ThreadStoreError.threadNotFound(threadId);
    return this.readThread({ threadId, includeArchived: true });
  }

  async deleteThread(params: DeleteThreadParams): Promise<void> {
    const { threadId } = params;
    const writer = this.writers.get(threadId);
    const hadWriter = writer !== undefined;
    this.historyCache.delete(threadId);
    if (writer) await this.discardThread(threadId);
    const existed = await this.run(() =>
      this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('thread_store_items').where('thread_id', '=', threadId).execute();
        await trx.deleteFrom('thread_store_threads').where('thread_id', '=', threadId).execute();
        // Spawn edges in either direction go with the thread (as @skein/state's deleteThread).
        await trx
          .deleteFrom('thread_spawn_edges')
          .where((eb) =>
            eb.or([eb('parent_thread_id', '=', threadId), eb('child_thread_id', '=', threadId)]),
          )
          .execute();
        const deleted = await trx
          .deleteFrom('threads')
          .where('id', '=', threadId)
          .executeTakeFirst();
        return Number(deleted.numDeletedRows) > 0;
      }),
    );
    if (!existed && !hadWriter) throw ThreadStoreError.threadNotFound(threadId);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private refuseDuplicateWriter(threadId: ThreadId): void {
    const existing = this.writers.get(threadId);
    if (existing?.closed) {
      this.writers.delete(threadId); // a writer that lost its lease: its slot is free again
    } else if (existing || this.opening.has(threadId)) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} already has a live writer`);
    }
  }

  private liveWriter(threadId: ThreadId): LiveWriter {
    const writer = this.writers.get(threadId);
    if (!writer) throw ThreadStoreError.threadNotFound(threadId);
    this.assertOpen(writer);
    return writer;
  }

  private assertOpen(writer: LiveWriter): void {
    if (writer.leaseLost) throw leaseLostError(writer.threadId);
    if (writer.closed) throw ThreadStoreError.threadNotFound(writer.threadId);
  }

  /** Our lease went to another writer: refuse everything from now on, keep the error stable. */
  private loseLease(writer: LiveWriter): never {
    writer.leaseLost = true;
    writer.closed = true;
    throw leaseLostError(writer.threadId);
  }

  private enqueue<T>(writer: LiveWriter, op: () => Promise<T>): Promise<T> {
    const result = writer.tail.then(op, op);
    writer.tail = result.catch(() => {});
    return result;
  }

  private async claimWriterLease(threadId: ThreadId): Promise<void> {
    const claim = await this.run(() =>
      claimLease(this.ctx, {
        name: LEASE_PREFIX + threadId,
        owner: this.owner,
        durationMs: this.leaseMs,
      }),
    );
    if (!claim.claimed) {
      const holder = claim.holder.owner;
      throw ThreadStoreError.conflict(
        `thread ${threadId} has a live writer in another process (${holder.host} pid ${holder.pid})`,
      );
    }
  }

  /** Runs `write` in a transaction that first renews (and so proves) this writer's lease. */
  private async inWriterTransaction(
    writer: LiveWriter,
    write: (trx: Tx) => Promise<void>,
  ): Promise<void> {
    await this.run(() =>
      this.db.transaction().execute(async (trx) => {
        const held = await heartbeatLease(
          { ...this.ctx, db: trx as unknown as Kysely<StateDatabase> },
          LEASE_PREFIX + writer.threadId,
          this.owner.id,
          this.leaseMs,
        );
        if (!held) this.loseLease(writer);
        await write(trx);
      }),
    );
  }

  /**
   * The hot path: one statement (so one round trip and one implicit transaction) that renews
   * the writer lease, bumps the item counter only if the lease is still ours, and inserts the
   * batch after it. Zero rows inserted means the lease was lost (or the thread deleted).
   */
  private async appendFenced(
    writer: LiveWriter,
    items: readonly RolloutItem[],
    atMs: number,
  ): Promise<void> {
    const now = Date.now();
    const json = items.map((item) => JSON.stringify(item));
    const inserted = await this.run(async () => {
      const result = await sql<{ inserted: string }>`
        WITH lease AS (
          UPDATE leases SET heartbeat_at_ms = ${now}, expires_at_ms = ${now + this.leaseMs}
          WHERE name = ${LEASE_PREFIX + writer.threadId} AND owner_id = ${this.owner.id}
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
        SELECT count(*)::text AS inserted FROM rows`.execute(this.db);
      return Number(result.rows[0]?.inserted ?? 0);
    });
    if (inserted === json.length) return;
    const lease = await this.run(() =>
      this.db
        .selectFrom('leases')
        .select('owner_id')
        .where('name', '=', LEASE_PREFIX + writer.threadId)
        .executeTakeFirst(),
    );
    if (lease?.owner_id !== this.owner.id) this.loseLease(writer);
    throw ThreadStoreError.threadNotFound(writer.threadId);
  }

  /** Writes the thread's rows and every pending item in one transaction. */
  private async materialize(writer: LiveWriter): Promise<void> {
    this.assertOpen(writer);
    if (writer.materialized) return;
    const create = writer.create;
    const pending = writer.pending;
    await this.inWriterTransaction(writer, async (trx) => {
      const ctx = { ...this.ctx, db: trx as unknown as Kysely<StateDatabase> };
      if (create) {
        await insertThreadIfAbsent(
          ctx,
          initialMetadata(create, writer.createdAtMs, this.ctx.defaultProvider),
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

  private async release(writer: LiveWriter): Promise<void> {
    writer.closed = true;
    if (this.writers.get(writer.threadId) === writer) this.writers.delete(writer.threadId);
    await this.run(() => releaseLease(this.ctx, LEASE_PREFIX + writer.threadId, this.owner.id));
  }

  private async renewLeases(): Promise<void> {
    for (const writer of this.writers.values()) {
      if (writer.closed) continue;
      try {
        const held = await heartbeatLease(
          this.ctx,
          LEASE_PREFIX + writer.threadId,
          this.owner.id,
          this.leaseMs,
        );
        if (!held) {
          writer.leaseLost = true;
          writer.closed = true;
        }
      } catch {
        // a transient DB error: the next beat or the next append decides
      }
    }
  }

  private checkArchivedRead(meta: ThreadMetadata, includeArchived: boolean | undefined): void {
    if (meta.archived && includeArchived !== true) {
      throw ThreadStoreError.invalidRequest(`thread ${meta.id} is archived`);
    }
  }

  private async threadMetadata(
    db: Db | Tx,
    threadId: string,
    forUpdate = false,
  ): Promise<ThreadMetadata | undefined> {
    let query = db.selectFrom('threads').selectAll().where('id', '=', threadId);
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? threadRowToMetadata(row) : undefined;
  }

  /**
   * A materialized thread's history as rollout lines (each item with the time it was accepted),
   * in order. One statement reads the archived flag and the rows after the cached prefix, so
   * both come from one snapshot and paging a long thread rereads nothing.
   */
  private async historyLines(
    threadId: ThreadId,
    includeArchived: boolean | undefined,
    retry = true,
  ): Promise<RolloutLine[]> {
    const after = this.historyCache.cachedCount(threadId);
    const rows = await this.run(() =>
      this.db
        .selectFrom('threads as t')
        .leftJoin('thread_store_threads as s', 's.thread_id', 't.id')
        .leftJoin('thread_store_items as i', (join) =>
          join.onRef('i.thread_id', '=', 't.id').on('i.seq', '>', after),
        )
        .select([
          't.archived',
          't.created_at_ms as generation',
          's.item_count',
          'i.seq',
          'i.item_json',
          'i.created_at_ms',
        ])
        .where('t.id', '=', threadId)
        .orderBy('i.seq')
        .execute(),
    );
    const head = rows[0];
    if (head === undefined) throw ThreadStoreError.threadNotFound(threadId);
    if (Number(head.archived) !== 0 && includeArchived !== true) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
    }
    const generation = Number(head.generation);
    const count = Number(head.item_count ?? 0);
    const cached = this.historyCache.get(threadId, generation);
    if (after > 0 && (cached === undefined || count < cached.lines.length)) {
      // Not the thread whose prefix is cached (deleted and created again): read it whole.
      this.historyCache.delete(threadId);
      if (retry) return this.historyLines(threadId, includeArchived, false);
      throw ThreadStoreError.internal(`history of thread ${threadId} changed while reading it`);
    }
    // The cached array grows in place (pages that hold it see a longer prefix, never another
    // history); the entry object is new so the cache's byte count stays right.
    const entry = { generation, lines: cached?.lines ?? [], bytes: cached?.bytes ?? 0 };
    for (const row of rows) {
      if (row.item_json === null) continue; // the join's one row when no rows are new
      // A concurrent page may have cached some of these rows already; seq is dense from 1.
      const seq = Number(row.seq);
      if (seq <= entry.lines.length) continue;
      if (seq !== entry.lines.length + 1) {
        this.historyCache.delete(threadId);
        throw ThreadStoreError.internal(`history of thread ${threadId} has a gap at ${seq}`);
      }
      // The parsed object becomes the line (no copy: this runs for every item of the thread).
      const line = JSON.parse(row.item_json) as RolloutLine;
      // Rows from before items were stamped have no time: an empty timestamp reads as unknown.
      line.timestamp =
        row.created_at_ms === null ? '' : new Date(Number(row.created_at_ms)).toISOString();
      entry.lines.push(line);
      entry.bytes += row.item_json.length;
    }
    this.historyCache.set(threadId, entry);
    return entry.lines;
  }

  private async historyItems(threadId: ThreadId): Promise<RolloutItem[]> {
    const rows = await this.db
      .selectFrom('thread_store_items')
      .select('item_json')
      .where('thread_id', '=', threadId)
      .orderBy('seq')
      .execute();
    return rows.map((row) => JSON.parse(row.item_json) as RolloutItem);
  }

  private async extrasFor(ids: readonly string[]): Promise<Map<string, ThreadExtras>> {
    const out = new Map<string, ThreadExtras>();
    if (ids.length === 0) return out;
    const rows = await this.db
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

  private async storedThread(meta: ThreadMetadata): Promise<StoredThread> {
    const extras = await this.run(() => this.extrasFor([meta.id]));
    return storedThreadFromMetadata(meta, extras.get(meta.id));
  }

  /** Maps driver and state errors to ThreadStoreErrors (ours pass through). */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof StateError) throw ThreadStoreError.invalidRequest(error.message, error);
      throw toThreadStoreError(error, 'postgres');
    }
  }
}

function leaseLostError(threadId: string): ThreadStoreError {
  return ThreadStoreError.conflict(`thread ${threadId}: writer lease lost to another writer`);
}

/** Inserts items after the thread's current last item; caller holds the transaction. */
async function appendRows(trx: Tx, threadId: string, items: readonly TimedItem[]): Promise<void> {
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

/** The session meta that opens every history, as the rollout writer would record it. */
function sessionMetaItem(params: CreateThreadParams, createdAtMs: number): RolloutItem {
  const payload = sessionMetaForCreate(params, {
    timestamp: new Date(createdAtMs).toISOString(),
    cwd: params.metadata.cwd ?? '',
    cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
  });
  return { type: 'session_meta', payload };
}
