/**
 * `LoadedThread`: the manager's handle of one loaded thread. A durable thread writes through a
 * `LiveThread` (persistence policy → history → metadata sync, all in the store); an ephemeral
 * thread keeps its history in memory and never reaches the store.
 *
 * Nothing is written for a new durable thread until the first `persist()` or the first flush
 * after history exists (deferred materialization, spec manager-appserver §4).
 */
import {
  type LiveThread,
  persistedRolloutItems,
  type RolloutItem,
  type SessionSource,
  type StoredThread,
  type ThreadHistoryMode,
  type ThreadId,
  type ThreadMemoryMode,
  type ThreadSource,
} from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import { eventType, isUserMessageItem } from './history.js';
import type { ThreadStatus } from './status.js';
import { isMissingThread } from './store-errors.js';

/** Facts fixed when the thread was loaded. */
export interface LoadedThreadInfo {
  threadId: ThreadId;
  /** Root of the live session tree; the thread's own id for root threads. */
  sessionId: string;
  ephemeral: boolean;
  forkedFromId: ThreadId | null;
  parentThreadId: ThreadId | null;
  cwd: string;
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  source: SessionSource;
  threadSource: ThreadSource | null;
  originator: string;
  historyMode: ThreadHistoryMode;
  memoryMode: ThreadMemoryMode;
  /** When this process created or loaded the thread (ms). */
  loadedAtMs: number;
  /** The stored creation time for resumed threads; the load time for new ones (ms). */
  createdAtMs: number;
  name: string | null;
}

/** What the manager needs back from a handle: status facts from recorded items, and unload. */
export interface LoadedThreadHost {
  statusOf(threadId: ThreadId): ThreadStatus;
  onItemsRecorded(threadId: ThreadId, items: readonly RolloutItem[]): void;
  unloadThread(threadId: ThreadId): Promise<boolean>;
}

/**
 * A thread loaded in a `ThreadManager`: its fixed facts (id, cwd, provider, source, history mode,
 * …), its live status, and the writes (`recordItems`, `persist`, `flush`) and reads
 * (`loadHistory`, `readStored`) of its `LiveThread`. Get one from `startThread`, `resumeThread` or
 * `forkThread`.
 */
export class LoadedThread {
  readonly threadId: ThreadId;
  readonly sessionId: string;
  readonly ephemeral: boolean;
  readonly forkedFromId: ThreadId | null;
  readonly parentThreadId: ThreadId | null;
  readonly cwd: string;
  readonly modelProvider: string;
  readonly source: SessionSource;
  readonly threadSource: ThreadSource | null;
  readonly originator: string;
  readonly historyMode: ThreadHistoryMode;
  readonly memoryMode: ThreadMemoryMode;
  readonly loadedAtMs: number;
  readonly createdAtMs: number;
  readonly #live: LiveThread | null;
  readonly #host: LoadedThreadHost;
  readonly #rolloutPath: string | null;
  /** History of an ephemeral thread (the only copy). */
  readonly #ephemeralHistory: RolloutItem[] = [];
  #model: string | null;
  #reasoningEffort: string | null;
  #name: string | null;
  #hasUserMessage: boolean;
  #recordedItems: boolean;
  #materialized: boolean;
  #closed = false;

  /** @internal built by the ThreadManager. */
  constructor(
    info: LoadedThreadInfo,
    options: {
      live: LiveThread | null;
      host: LoadedThreadHost;
      /** Items already in the stored history (resume) or copied in (fork). */
      history: readonly RolloutItem[];
      /** Whether a rollout already exists in the store. */
      materialized: boolean;
      /**
       * Whether `info.model`/`info.reasoningEffort` stand even though the history's turn
       * contexts name others (a fork runs on the session's settings, not its source's).
       */
      settingsGiven?: boolean;
    },
  ) {
    this.threadId = info.threadId;
    this.sessionId = info.sessionId;
    this.ephemeral = info.ephemeral;
    this.forkedFromId = info.forkedFromId;
    this.parentThreadId = info.parentThreadId;
    this.cwd = info.cwd;
    this.modelProvider = info.modelProvider;
    this.source = info.source;
    this.threadSource = info.threadSource;
    this.originator = info.originator;
    this.historyMode = info.historyMode;
    this.memoryMode = info.memoryMode;
    this.loadedAtMs = info.loadedAtMs;
    this.createdAtMs = info.createdAtMs;
    this.#model = info.model;
    this.#reasoningEffort = info.reasoningEffort;
    this.#name = info.name;
    this.#live = options.live;
    this.#host = options.host;
    this.#rolloutPath = options.live?.localRolloutPath() ?? null;
    this.#hasUserMessage = options.history.some(isUserMessageItem);
    this.#recordedItems = options.history.length > 0;
    this.#materialized = options.materialized;
    if (this.ephemeral) this.#ephemeralHistory.push(...options.history);
    if (options.settingsGiven !== true) this.#observeTurnContext(options.history);
  }

  /** The rollout path (precomputed before the file exists); null for ephemeral/pathless threads. */
  get rolloutPath(): string | null {
    return this.#rolloutPath;
  }

  get model(): string | null {
    return this.#model;
  }

  get reasoningEffort(): string | null {
    return this.#reasoningEffort;
  }

  /** The name as last set through the manager (or stored when loaded). */
  get name(): string | null {
    return this.#name;
  }

  /** True once a user message is in the thread's history (the thread becomes listable). */
  get hasUserMessage(): boolean {
    return this.#hasUserMessage;
  }

  /** True when the store holds a rollout for this thread (after persist or a flushed append). */
  get materialized(): boolean {
    return this.#materialized;
  }

  /** Whether history items were recorded (a thread persisted bare has none). */
  get hasRecordedItems(): boolean {
    return this.#recordedItems;
  }

  /** Whether anything of this durable thread is written (pending appends flushed first). */
  async isWritten(): Promise<boolean> {
    if (this.#live === null || this.#closed) return false;
    await this.flush();
    return this.#materialized;
  }

  /** Whether the thread was unloaded (later writes fail `ThreadNotFound`). */
  get closed(): boolean {
    return this.#closed;
  }

  get status(): ThreadStatus {
    return this.#host.statusOf(this.threadId);
  }

  /** The LiveThread behind a durable thread (null for ephemeral ones). */
  get liveThread(): LiveThread | null {
    return this.#live;
  }

  /**
   * Records raw rollout items in order: the store applies the persistence policy, appends the
   * history and syncs derived metadata. Turn events update the thread status
   * (`task_started` ⇒ active; `task_complete` / `turn_aborted` ⇒ idle).
   */
  async recordItems(items: readonly RolloutItem[]): Promise<void> {
    this.#assertOpen();
    if (items.length === 0) return;
    if (this.#live === null) {
      this.#ephemeralHistory.push(...items);
    } else {
      await this.#live.appendItems(items);
    }
    // Only items the persistence policy keeps make a flush materialize the thread.
    if (persistedRolloutItems(items).length > 0) this.#recordedItems = true;
    if (items.some(isUserMessageItem)) this.#hasUserMessage = true;
    this.#observeTurnContext(items);
    this.#host.onItemsRecorded(this.threadId, items);
  }

  /** Materializes the thread in the store (writes the rollout) and makes every item durable. */
  async persist(): Promise<void> {
    this.#assertOpen();
    if (this.#live === null) return;
    await this.#live.persist();
    this.#materialized = true;
  }

  /** Makes recorded items durable and readable; never materializes a thread without history. */
  async flush(): Promise<void> {
    this.#assertOpen();
    if (this.#live === null) return;
    await this.#live.flush();
    if (this.#recordedItems) this.#materialized = true;
  }

  /** Unloads the thread through its manager (status `notLoaded`, then `closed`). */
  async shutdown(): Promise<void> {
    await this.#host.unloadThread(this.threadId);
  }

  /**
   * The thread's durable history (flushed first). A thread that has no stored rollout yet
   * (pristine, or ephemeral) fails `NoRolloutFound`, as resume and fork answer.
   */
  async loadHistory(): Promise<RolloutItem[]> {
    this.#assertOpen();
    if (this.#live === null) throw ThreadManagerError.noRolloutFound(this.threadId);
    await this.flush();
    if (!this.#materialized) throw ThreadManagerError.noRolloutFound(this.threadId);
    try {
      return (await this.#live.loadHistory(false)).items;
    } catch (error) {
      if (isMissingThread(error)) {
        throw ThreadManagerError.noRolloutFound(this.threadId, error);
      }
      throw error;
    }
  }

  /** In-memory history of an ephemeral thread (a copy); empty for durable threads. */
  ephemeralHistory(): RolloutItem[] {
    return [...this.#ephemeralHistory];
  }

  /** The stored view of a durable thread after a flush; null while nothing is stored. */
  async readStored(): Promise<StoredThread | null> {
    if (this.#live === null || this.#closed) return null;
    await this.flush();
    if (!this.#materialized) return null;
    try {
      return await this.#live.readThread(true, false);
    } catch (error) {
      if (isMissingThread(error)) return null;
      throw error;
    }
  }

  /** @internal the manager's metadata route for loaded threads. */
  async applyMetadata(apply: (live: LiveThread) => Promise<StoredThread>): Promise<StoredThread> {
    this.#assertOpen();
    if (this.#live === null) throw ThreadManagerError.ephemeralMetadataUpdate(this.threadId);
    // An explicit mutation materializes a pristine thread (rollout + row), as Codex does.
    if (!this.#materialized) await this.persist();
    const stored = await apply(this.#live);
    this.#name = stored.name;
    return stored;
  }

  /** @internal closes the live writer; later writes fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#live !== null) await this.#live.shutdown();
  }

  #assertOpen(): void {
    if (this.#closed) throw ThreadManagerError.threadNotFound(this.threadId);
  }

  #observeTurnContext(items: readonly RolloutItem[]): void {
    for (const item of items) {
      if (item.type !== 'turn_context' || eventType(item) !== undefined) continue;
      const payload = item.payload as { model?: unknown; effort?: unknown } | null;
      if (typeof payload?.model === 'string') this.#model = payload.model;
      if (typeof payload?.effort === 'string') this.#reasoningEffort = payload.effort;
    }
  }
}
