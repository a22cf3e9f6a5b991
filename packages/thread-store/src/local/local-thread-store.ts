/**
 * `LocalThreadStore` (spec thread-store §4): history in rollout JSONL files under the Codex
 * home, queryable metadata in an optional state DB handle passed in (never opened here).
 * Explicit mutations are also written where SQLite-less readers see them: names to
 * `session_index.jsonl`, memory mode and git to a `session_meta` line in the rollout.
 */

import {
  type FsyncPolicy,
  type HeldFileLock,
  lockFileCreatingDir,
  resolveRolloutFile,
  threadWriterLockPath,
  warnLocksUnavailable,
} from '@skein/rollout';
import { listDescendantThreads, type StateDb } from '@skein/state';
import { ThreadStoreError, toThreadStoreError } from '../errors.js';
import { collectGitInfo } from '../git-info.js';
import { ThreadStoreBase } from '../thread-store.js';
import type {
  AppendThreadItemsParams,
  ArchiveThreadParams,
  CreateThreadParams,
  DeleteThreadParams,
  HistoryBaseRef,
  ItemPage,
  ListItemsParams,
  ListThreadsParams,
  ListTurnsParams,
  LoadThreadHistoryParams,
  ReadThreadByRolloutPathParams,
  ReadThreadParams,
  ResumeThreadParams,
  SearchThreadsParams,
  StoredThread,
  StoredThreadHistory,
  ThreadHistoryMode,
  ThreadId,
  ThreadPage,
  ThreadReadState,
  ThreadSearchPage,
  TurnPage,
  UpdateReadStateParams,
  UpdateThreadMetadataParams,
} from '../types.js';
import {
  appendLocalItems,
  discardLocalThread,
  flushLocalThread,
  persistLocalThread,
  shutdownLocalThread,
} from './append-items.js';
import { archiveLocalThread } from './archive-thread.js';
import { createLocalThread } from './create-thread.js';
import { deleteLocalThread } from './delete-thread.js';
import type { LocalFileOpsHost } from './file-ops-host.js';
import { type LocalListingContext, listLocalThreads } from './list-threads.js';
import { listLocalItems, listLocalTurns, loadLocalHistory } from './load-history.js';
import { paginatedForkBase } from './paginated.js';
import {
  publishLocalTurnCompleted,
  readLocalReadStates,
  updateLocalReadState,
} from './read-receipts.js';
import {
  canonicalize,
  locateRollout,
  mergeGit,
  nameForRow,
  readLocalThread,
  readLocalThreadByRolloutPath,
  refuseLinkOutsideHome,
  stateRow,
  storedThreadFromRollout,
} from './read-thread.js';
import { resumeLocalThread } from './resume-thread.js';
import { findRolloutPath, readFirstSessionMeta } from './rollout-port.js';
import { messageOf } from './rollout-scope.js';
import { searchLocalThreads } from './search-threads.js';
import type { LiveWriterEntry, LocalStoreHost } from './store-host.js';
import { unarchiveLocalThread } from './unarchive-thread.js';
import { applyLocalDerivedMetadata, updateLocalThreadMetadata } from './update-thread-metadata.js';

/**
 * `LocalThreadStore`'s configuration: the Codex home, the provider of threads that name none,
 * where warnings go, and how git facts are collected.
 */
export interface LocalThreadStoreConfig {
  /** The Codex home (`CODEX_HOME`, default `~/.codex`). */
  codexHome: string;
  /** Provider reported for threads whose metadata names none. Default `openai`. */
  defaultModelProvider?: string;
  /** Where warnings of best-effort steps go. Default `console.warn`. */
  warn?: (message: string) => void;
  /** Collects git facts for a new rollout's `session_meta` (default: run `git`). */
  collectGitInfo?: typeof collectGitInfo;
  /**
   * Where the live writers' flushes fsync: on the calling thread while the disk answers within
   * the policy's budget, else on the threadpool. Default: the process's `defaultFsyncPolicy`;
   * `new FsyncPolicy({ budgetMs: 0 })` always uses the threadpool.
   */
  fsyncPolicy?: FsyncPolicy;
}

/**
 * The `ThreadStore` of a Codex home: rollout JSONL files plus Codex's SQLite index (the `StateDb`
 * an app built once with `initStateDb`; without one, files only), written as Codex writes them.
 * One writer per thread across processes (Codex's writer lock). `close()` shuts every live writer
 * down.
 */
export class LocalThreadStore extends ThreadStoreBase {
  readonly codexHome: string;
  readonly defaultModelProvider: string;
  private handle: StateDb | undefined;
  private readonly writers = new Map<ThreadId, LiveWriterEntry>();
  private readonly warn: (message: string) => void;
  private readonly gitInfo: typeof collectGitInfo;
  /** What the operation files need of the store (see store-host.ts). */
  private readonly host: LocalStoreHost;

  constructor(config: LocalThreadStoreConfig, stateDb?: StateDb) {
    super();
    this.codexHome = canonicalize(config.codexHome);
    this.defaultModelProvider = config.defaultModelProvider ?? 'openai';
    this.handle = stateDb;
    this.warn = config.warn ?? ((text) => console.warn(text));
    this.gitInfo = config.collectGitInfo ?? collectGitInfo;
    const handle = (): StateDb | undefined => this.handle;
    this.host = {
      codexHome: this.codexHome,
      defaultModelProvider: this.defaultModelProvider,
      get stateDb() {
        return handle();
      },
      writers: this.writers,
      gitInfo: this.gitInfo,
      fsyncPolicy: config.fsyncPolicy,
      warn: this.warn,
      takeWriterLock: (threadId) => this.takeWriterLock(threadId),
    };
  }

  /** The state DB handle this store was given, if any. */
  get stateDb(): StateDb | undefined {
    return this.handle;
  }

  /**
   * Switches a store that started without the index (another process was still building it)
   * to the handle once it is ready; from then on it answers as any indexed store. Ignored when
   * the store already has one.
   */
  attachStateDb(stateDb: StateDb): boolean {
    if (this.handle !== undefined) return false;
    this.handle = stateDb;
    return true;
  }

  /**
   * New threads take the mode the home's Codex writes (ARCHITECTURE decision 3): 0.169's
   * paginated history where its DB is 0.169's, legacy lines elsewhere (a 0.131 DB, or none).
   */
  override defaultHistoryMode(): ThreadHistoryMode {
    return this.handle?.writesPaginatedHistory ? 'paginated' : 'legacy';
  }

  /** Where a paginated fork of `sourceId` starts (see `ThreadStore.forkBase`). */
  async forkBase(
    sourceId: ThreadId,
    options: { afterTurnId?: string } = {},
  ): Promise<HistoryBaseRef | null> {
    const path = await locateRollout(this.host, sourceId, true);
    const file = (await resolveRolloutFile(path)) ?? path;
    const meta = await readFirstSessionMeta(file).catch(() => null);
    if (meta?.history_mode !== 'paginated') return null;
    return paginatedForkBase(sourceId, file, options.afterTurnId, async (id) => {
      // A base may be archived: the fork still reads through it.
      const active = await findRolloutPath(this.codexHome, id, false, this.handle);
      return active ?? findRolloutPath(this.codexHome, id, true, this.handle);
    });
  }

  /** Shuts down every live writer (flushing what they hold). The state handle stays open. */
  async close(): Promise<void> {
    const entries = [...this.writers.entries()];
    this.writers.clear();
    await Promise.allSettled(
      entries.map(async ([, entry]) => {
        try {
          await entry.writer.shutdown();
        } finally {
          await entry.lock?.release();
        }
      }),
    );
  }

  /**
   * Codex's writer lock for a thread: 0.169 holds `flock` on `thread-writer-locks/<id>.lock`
   * while a thread's writer is open, and so does Skein, so the two never append to one rollout
   * at once (ordinals and the projection would fork). Held by another process: the refusal
   * Codex gives. Without flock support, writers go uncoordinated (said once).
   */
  private async takeWriterLock(threadId: ThreadId): Promise<HeldFileLock | undefined> {
    const result = await lockFileCreatingDir(threadWriterLockPath(this.codexHome, threadId), {
      waitMs: 0,
    }).catch((error: unknown) => {
      throw ThreadStoreError.internal(`failed to take the writer lock: ${messageOf(error)}`, error);
    });
    if (result.locked) return result.lock;
    if (result.reason === 'unavailable') {
      warnLocksUnavailable(this.warn);
      return undefined;
    }
    throw ThreadStoreError.invalidRequest(`thread ${threadId} already has an active writer`);
  }

  /** Refuses to move or delete a thread another process (or store) is writing. */
  private async assertNoOtherWriter(threadId: ThreadId): Promise<void> {
    if (this.writers.has(threadId)) return;
    const lock = await this.takeWriterLock(threadId);
    await lock?.release();
  }

  /** The live writer's rollout path; `ThreadNotFound` without a live writer. */
  liveRolloutPath(threadId: ThreadId): string {
    const entry = this.writers.get(threadId);
    if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
    return entry.writer.path;
  }

  // -------------------------------------------------------------------------------------------
  // Live writer lifecycle

  async createThread(params: CreateThreadParams): Promise<void> {
    return createLocalThread(this.host, params);
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    return resumeLocalThread(this.host, params);
  }

  /** History only: the policy filters, the writer writes; no metadata is derived here. */
  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    return appendLocalItems(this.host, params);
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    return persistLocalThread(this.host, threadId);
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    return flushLocalThread(this.host, threadId);
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    return shutdownLocalThread(this.host, threadId);
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    return discardLocalThread(this.host, threadId);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    return loadLocalHistory(this.host, params);
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    return readLocalThread(this.host, params);
  }

  async readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    return readLocalThreadByRolloutPath(this.host, params);
  }

  // -------------------------------------------------------------------------------------------
  // Listing

  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    return listLocalThreads(this.listingContext(), params);
  }

  /** The state index's spawn edges (open and closed); null while there is no index. */
  async listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[] | null> {
    const db = this.handle;
    if (db === undefined) return null;
    try {
      return (await listDescendantThreads(db.ctx, threadId)).map((edge) => edge.childId);
    } catch (error) {
      throw toThreadStoreError(error, `failed to list spawn descendants of ${threadId}`);
    }
  }

  /** What the listing operations read: the home, the default provider, the state handle. */
  private listingContext(): LocalListingContext {
    return {
      codexHome: this.codexHome,
      defaultModelProvider: this.defaultModelProvider,
      stateDb: this.handle,
    };
  }

  /**
   * Threads whose visible conversation contains `searchTerm` (case-insensitive), in listing
   * order with the listing's filters and cursors, each with a snippet of its first match.
   */
  override async searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage> {
    return searchLocalThreads(
      { codexHome: this.codexHome, listThreads: (list) => this.listThreads(list) },
      params,
    );
  }

  override async listTurns(params: ListTurnsParams): Promise<TurnPage> {
    return listLocalTurns(this.host, params);
  }

  override async listItems(params: ListItemsParams): Promise<ItemPage> {
    return listLocalItems(this.host, params);
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    return updateLocalThreadMetadata(this.host, params);
  }

  /**
   * `updateThreadMetadata` for a LiveThread's derived patches: the same writes, without
   * building the summary it would return (a row read and a name-index read per append).
   */
  async applyDerivedMetadata(params: UpdateThreadMetadataParams): Promise<void> {
    return applyLocalDerivedMetadata(this.host, params);
  }

  // -------------------------------------------------------------------------------------------
  // Archive, unarchive, delete

  // -------------------------------------------------------------------------------------------
  // Read receipts (Codex 0.169's thread_read_receipts)

  /** Read states of the given threads; all `initial` where the DB keeps no receipts. */
  async readStates(threadIds: readonly ThreadId[]): Promise<Map<ThreadId, ThreadReadState>> {
    return readLocalReadStates(this.host, threadIds);
  }

  async updateReadState(params: UpdateReadStateParams): Promise<ThreadReadState> {
    return updateLocalReadState(this.host, params);
  }

  /**
   * A completed turn, published as 0.169 publishes it (only threads a user reads: no receipt for
   * sub-agents or threads with another thread source). Best effort: a receipt never fails the
   * turn that produced it.
   */
  async publishTurnCompleted(threadId: ThreadId, turnId: string): Promise<void> {
    return publishLocalTurnCompleted(this.host, threadId, turnId);
  }

  /** Moves the thread's rollout back under `sessions/` (see unarchive-thread.ts), then reads it. */
  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    const { threadId } = params;
    const restoredPlain = await unarchiveLocalThread(this.fileOpsHost(), params);
    // Codex 0.169 answers the restored thread as a read does: its own recency and (legacy) the
    // rollout view's times, not the moved file's.
    if (this.handle !== undefined && (await stateRow(this.host, threadId)) !== undefined) {
      return this.readThread({ threadId });
    }
    const thread = await storedThreadFromRollout(this.host, restoredPlain, false);
    if (thread === undefined) {
      throw ThreadStoreError.internal(`failed to read unarchived thread ${restoredPlain}`);
    }
    const row = await stateRow(this.host, threadId);
    if (row !== undefined) {
      const rowName = await nameForRow(this.host, row, thread.preview);
      if (rowName !== null) thread.name = rowName;
      thread.gitInfo = mergeGit(row, thread.gitInfo);
    }
    return thread;
  }

  /** Moves the thread's rollout to `archived_sessions/` (see archive-thread.ts). */
  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    return archiveLocalThread(this.fileOpsHost(), params);
  }

  /** Deletes the thread's files, name entries and rows (see delete-thread.ts). */
  async deleteThread(params: DeleteThreadParams): Promise<void> {
    return deleteLocalThread(this.fileOpsHost(), params);
  }

  /** What the file operations (archive, unarchive, delete) need of the store, without its internals. */
  private fileOpsHost(): LocalFileOpsHost {
    return {
      codexHome: this.codexHome,
      stateDb: this.handle,
      warn: this.warn,
      assertNoOtherWriter: (threadId) => this.assertNoOtherWriter(threadId),
      refuseLinkOutsideHome: (path) => refuseLinkOutsideHome(this.host, path),
      dropLiveWriter: async (threadId) => {
        const entry = this.writers.get(threadId);
        if (entry === undefined) return null;
        await entry.writer.discard().catch(() => undefined);
        this.writers.delete(threadId);
        await entry.lock?.release();
        return entry.writer.materialized ? entry.writer.path : null;
      },
    };
  }
}
