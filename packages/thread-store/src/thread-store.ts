import { ThreadStoreError } from './errors.js';
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
} from './types.js';

/**
 * The storage boundary for threads (spec thread-store §1). Every method returns a Promise that
 * rejects with a `ThreadStoreError`. Implementations must be safe to share across concurrent
 * callers.
 *
 * `appendItems` is history only and never derives metadata; `updateThreadMetadata` is the only
 * metadata write. A capability a store lacks rejects with `Unsupported` (a stable operation
 * name), never with an empty result.
 */
export interface ThreadStore {
  /** The durable history format of new threads; `legacy` unless the store is paginated. */
  defaultHistoryMode(): ThreadHistoryMode;
  /**
   * Where a paginated fork of `sourceId` starts (its end now, or the end of `afterTurnId`), for
   * `CreateThreadParams.historyBase`; null when the source's history is not paginated here.
   * Stores without paginated history leave it out.
   */
  forkBase?(sourceId: ThreadId, options?: { afterTurnId?: string }): Promise<HistoryBaseRef | null>;

  /** Opens live persistence for a new thread (the caller generates the id). May be lazy. */
  createThread(params: CreateThreadParams): Promise<void>;
  /** Reopens an existing thread for further appends. */
  resumeThread(params: ResumeThreadParams): Promise<void>;
  /** Appends raw items in order, after applying the rollout persistence policy. */
  appendItems(params: AppendThreadItemsParams): Promise<void>;
  /** Materializes a lazily created thread, then makes queued items durable. */
  persistThread(threadId: ThreadId): Promise<void>;
  /** Makes queued items durable and readable; does not materialize a thread without history. */
  flushThread(threadId: ThreadId): Promise<void>;
  /** Flushes and closes the live writer; later appends fail `ThreadNotFound`. */
  shutdownThread(threadId: ThreadId): Promise<void>;
  /** Idempotent terminal release without flushing buffered items; durable data stays. */
  discardThread(threadId: ThreadId): Promise<void>;

  loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory>;
  readThread(params: ReadThreadParams): Promise<StoredThread>;
  /** @deprecated use `readThread`; pathless stores reject it with `InvalidRequest`. */
  readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread>;
  listThreads(params: ListThreadsParams): Promise<ThreadPage>;
  searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage>;
  listTurns(params: ListTurnsParams): Promise<TurnPage>;
  listItems(params: ListItemsParams): Promise<ItemPage>;

  /** Applies a literal patch and returns the thread after the update. */
  updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread>;
  archiveThread(params: ArchiveThreadParams): Promise<void>;
  unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread>;
  /** Hard-deletes the persisted data and its metadata. */
  deleteThread(params: DeleteThreadParams): Promise<void>;
  /**
   * A thread's persisted spawn descendants (not itself), breadth first, open and closed edges
   * alike: what cascading archive, unarchive and delete walk. Null while the store has no
   * spawn-edge index (a home answering from its files); stores without one leave it out, and
   * callers then walk `directChildrenOf` listings.
   */
  listSpawnDescendants?(threadId: ThreadId): Promise<ThreadId[] | null>;

  /**
   * Read receipts (Codex 0.169's `thread_read_receipts`), for the given threads; a thread
   * without one reads as read at `initial:<id>`. Stores that keep none leave these out.
   */
  readStates?(threadIds: readonly ThreadId[]): Promise<Map<ThreadId, ThreadReadState>>;
  /** Marks a thread read or unread (compare-and-set on the revision). */
  updateReadState?(params: UpdateReadStateParams): Promise<ThreadReadState>;
  /** Records that a turn completed (what moves an unread marker), as 0.169 does. */
  publishTurnCompleted?(threadId: ThreadId, turnId: string): Promise<void>;
}

/**
 * Optional base class with the interface defaults: legacy history, and `Unsupported` for the
 * later capabilities (search, turns, items).
 */
export abstract class ThreadStoreBase implements ThreadStore {
  defaultHistoryMode(): ThreadHistoryMode {
    return 'legacy';
  }

  abstract createThread(params: CreateThreadParams): Promise<void>;
  abstract resumeThread(params: ResumeThreadParams): Promise<void>;
  abstract appendItems(params: AppendThreadItemsParams): Promise<void>;
  abstract persistThread(threadId: ThreadId): Promise<void>;
  abstract flushThread(threadId: ThreadId): Promise<void>;
  abstract shutdownThread(threadId: ThreadId): Promise<void>;
  abstract discardThread(threadId: ThreadId): Promise<void>;
  abstract loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory>;
  abstract readThread(params: ReadThreadParams): Promise<StoredThread>;
  abstract readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread>;
  abstract listThreads(params: ListThreadsParams): Promise<ThreadPage>;
  abstract updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread>;
  abstract archiveThread(params: ArchiveThreadParams): Promise<void>;
  abstract unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread>;
  abstract deleteThread(params: DeleteThreadParams): Promise<void>;

  async searchThreads(_params: SearchThreadsParams): Promise<ThreadSearchPage> {
    throw ThreadStoreError.unsupported('thread/search');
  }

  async listTurns(_params: ListTurnsParams): Promise<TurnPage> {
    throw ThreadStoreError.unsupported('list_turns');
  }

  async listItems(_params: ListItemsParams): Promise<ItemPage> {
    throw ThreadStoreError.unsupported('list_items');
  }
}
