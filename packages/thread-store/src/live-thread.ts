/**
 * `LiveThread` (spec thread-store §6): the session-facing handle of one thread being written.
 * It applies the persistence policy, appends canonical history through the store, derives
 * metadata patches from what it appended (`ThreadMetadataSync`) and sends them through
 * `ThreadStore.updateThreadMetadata`. This is the synchronous variant (§6.4): a metadata error
 * propagates to the caller; the local store's own soft policy (§6.6) keeps a broken optional
 * state DB from failing appends.
 */
import { ThreadStoreError } from './errors.js';
import { persistedRolloutItems } from './items.js';
import {
  type PendingMetadataUpdate,
  ThreadMetadataSync,
  type ThreadMetadataSyncOptions,
} from './metadata-sync.js';
import type { ThreadStore } from './thread-store.js';
import type {
  CreateThreadParams,
  ResumeThreadParams,
  RolloutItem,
  StoredThread,
  StoredThreadHistory,
  ThreadId,
  ThreadMemoryMode,
  ThreadMetadataPatch,
  UpdateThreadMetadataParams,
} from './types.js';

/** Stores that keep a local rollout file per live writer (`LocalThreadStore`). */
export interface LiveRolloutPathSource {
  liveRolloutPath(threadId: ThreadId): string;
}

/**
 * Stores that can apply a derived patch without building the summary `updateThreadMetadata`
 * returns (`LocalThreadStore`): a LiveThread sends one per append and never reads the result.
 */
export interface DerivedMetadataSink {
  applyDerivedMetadata(params: UpdateThreadMetadataParams): Promise<void>;
}

function hasDerivedMetadataSink(store: ThreadStore): store is ThreadStore & DerivedMetadataSink {
  return typeof (store as Partial<DerivedMetadataSink>).applyDerivedMetadata === 'function';
}

function hasLiveRolloutPath(store: ThreadStore): store is ThreadStore & LiveRolloutPathSource {
  return typeof (store as Partial<LiveRolloutPathSource>).liveRolloutPath === 'function';
}

/**
 * How a `LiveThread` sends derived metadata: `inline` (each append waits for it; its error fails
 * the append) or `background` (one worker per thread, coalescing; errors surface at the next
 * barrier), and the metadata touch interval.
 */
export interface LiveThreadOptions extends ThreadMetadataSyncOptions {
  /**
   * `inline` (default, spec §6.4): each append sends its derived metadata before returning, and
   * a metadata error fails the append. `background` (spec §6.5): an append returns once history
   * is accepted; one worker per thread sends metadata, coalescing appends that arrive while an
   * update is in flight; a failure is kept and retried at the next barrier (`flush`, `persist`,
   * `shutdown`, `updateMetadata`), which reports it if the retry fails too.
   */
  metadataUpdates?: 'inline' | 'background';
}

/**
 * The handle of one thread being written: applies the persistence policy, appends history through
 * the store, then derives metadata (preview, times, tokens, model, …) from what it appended and
 * sends it through `updateThreadMetadata`. Operations on one handle run in order. Create with
 * `LiveThread.create` or `LiveThread.resume`.
 */
export class LiveThread {
  readonly threadId: ThreadId;
  readonly store: ThreadStore;
  private readonly sync: ThreadMetadataSync;
  private readonly background: boolean;
  /** Serializes operations on this handle so metadata never overtakes history. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The background worker's current run, if any. */
  private worker: Promise<void> | null = null;
  /** Turns completed by appended items, published once the row they name is written. */
  private completedTurns: string[] = [];

  private constructor(
    store: ThreadStore,
    threadId: ThreadId,
    sync: ThreadMetadataSync,
    options: LiveThreadOptions,
  ) {
    this.store = store;
    this.threadId = threadId;
    this.sync = sync;
    this.background = options.metadataUpdates === 'background';
  }

  /** Builds the metadata sync (may probe git), then opens persistence with the store. */
  static async create(
    store: ThreadStore,
    params: CreateThreadParams,
    options: LiveThreadOptions = {},
  ): Promise<LiveThread> {
    const sync = await ThreadMetadataSync.forCreate(params, options);
    // The sync's creation time is the thread's: the store writes it into the session meta.
    await store.createThread({ ...params, createdAtMs: params.createdAtMs ?? sync.createdAtMs });
    return new LiveThread(store, params.threadId, sync, options);
  }

  /**
   * Loads history first when the caller did not supply it, so that metadata observes the
   * thread's historical facts (created time, provider, first message), then reopens it.
   */
  static async resume(
    store: ThreadStore,
    params: ResumeThreadParams,
    options: LiveThreadOptions = {},
  ): Promise<LiveThread> {
    let resumeParams = params;
    if (params.history == null) {
      const history = await store.loadHistory({
        threadId: params.threadId,
        includeArchived: params.includeArchived ?? false,
      });
      resumeParams = { ...params, history: history.items };
    }
    await store.resumeThread(resumeParams);
    const sync = ThreadMetadataSync.forResume(resumeParams, options);
    return new LiveThread(store, params.threadId, sync, options);
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async applyUpdate(update: PendingMetadataUpdate | undefined): Promise<void> {
    if (update !== undefined) {
      const params = { threadId: this.threadId, patch: update.patch, includeArchived: true };
      if (hasDerivedMetadataSink(this.store)) await this.store.applyDerivedMetadata(params);
      else await this.store.updateThreadMetadata(params);
      this.sync.markPendingUpdateApplied(update);
    }
    await this.publishCompletedTurns();
  }

  /** Read receipts follow completed turns (stores that keep receipts; best effort there). */
  private async publishCompletedTurns(): Promise<void> {
    if (this.completedTurns.length === 0 || this.store.publishTurnCompleted === undefined) return;
    const turns = this.completedTurns;
    this.completedTurns = [];
    for (const turnId of turns) await this.store.publishTurnCompleted(this.threadId, turnId);
  }

  /** Appends raw items (the policy filters them), then sends the derived metadata. */
  appendItems(
    items: readonly RolloutItem[],
    options: {
      /** Publish read receipts for the turns these items complete (default); a fork's copy of
       * its source's history completes no turn of its own. */
      receipts?: boolean;
    } = {},
  ): Promise<void> {
    return this.serialize(async () => {
      if (items.length === 0) return;
      // The widest policy (paginated keeps all legacy keeps): the store applies its thread's own.
      const canonical = persistedRolloutItems(items, 'paginated');
      await this.store.appendItems({ threadId: this.threadId, items });
      if (canonical.length === 0) return;
      for (const item of canonical) {
        const turnId = options.receipts === false ? null : completedTurnId(item);
        if (turnId !== null) this.completedTurns.push(turnId);
      }
      const update = this.sync.observeAppendedItems(canonical);
      if (this.background) {
        if (update !== undefined) this.startWorker();
        return;
      }
      await this.applyUpdate(update);
    });
  }

  private startWorker(): void {
    if (this.worker !== null) return;
    this.worker = this.runWorker().finally(() => {
      this.worker = null;
    });
  }

  /**
   * Sends the pending patch until none is left. Appends that land meanwhile merge into the
   * pending patch, so one follow-up attempt covers them all. A failure that newer facts already
   * superseded is retried with the merged patch; any other failure stops the worker and stays
   * pending for the next barrier.
   */
  private async runWorker(): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const update = this.sync.takePendingUpdate();
      if (update === undefined) return;
      try {
        await this.applyUpdate(update);
      } catch {
        if (this.sync.currentGeneration > update.generation) continue;
        return;
      }
    }
  }

  /** Waits for the background worker; then sends what is still pending (errors propagate). */
  private async barrier(next: () => PendingMetadataUpdate | undefined): Promise<void> {
    if (this.worker !== null) await this.worker;
    await this.applyUpdate(next());
  }

  /** Materializes the thread, then sends every pending metadata fact. */
  persist(): Promise<void> {
    return this.serialize(async () => {
      await this.store.persistThread(this.threadId);
      await this.barrier(() => this.sync.takePendingUpdate());
    });
  }

  /** Makes history durable, then sends pending metadata once history exists. */
  flush(): Promise<void> {
    return this.serialize(async () => {
      await this.store.flushThread(this.threadId);
      await this.barrier(() => this.sync.takePendingUpdateForExistingHistory());
    });
  }

  /** Sends pending metadata (if history exists), then closes the store's writer. */
  shutdown(): Promise<void> {
    return this.serialize(async () => {
      await this.barrier(() => this.sync.takePendingUpdateForExistingHistory());
      await this.store.shutdownThread(this.threadId);
    });
  }

  /** Releases the writer without flushing buffered items (session init failed). */
  discard(): Promise<void> {
    return this.serialize(async () => {
      // An update already in flight finishes first; nothing new is sent.
      if (this.worker !== null) await this.worker;
      await this.store.discardThread(this.threadId);
    });
  }

  loadHistory(includeArchived = true): Promise<StoredThreadHistory> {
    return this.store.loadHistory({ threadId: this.threadId, includeArchived });
  }

  readThread(includeArchived = true, includeHistory = false): Promise<StoredThread> {
    return this.store.readThread({ threadId: this.threadId, includeArchived, includeHistory });
  }

  updateMemoryMode(mode: ThreadMemoryMode, includeArchived = true): Promise<StoredThread> {
    return this.updateMetadata({ memoryMode: mode }, includeArchived);
  }

  /** Flushes pending derived metadata first, then applies an explicit patch. */
  updateMetadata(patch: ThreadMetadataPatch, includeArchived = true): Promise<StoredThread> {
    return this.serialize(async () => {
      await this.barrier(() => this.sync.takePendingUpdate());
      return this.store.updateThreadMetadata({ threadId: this.threadId, patch, includeArchived });
    });
  }

  /** The live writer's rollout path for local stores; null for stores without paths. */
  localRolloutPath(): string | null {
    if (!hasLiveRolloutPath(this.store)) return null;
    try {
      return this.store.liveRolloutPath(this.threadId);
    } catch (error) {
      if (error instanceof ThreadStoreError && error.code === 'ThreadNotFound') return null;
      throw error;
    }
  }
}

/**
 * Owns a `LiveThread` while session initialization can still fail: `commit()` hands it over,
 * `discard()` releases it. Callers discard an armed guard in `finally`.
 */
export class LiveThreadInitGuard {
  private thread: LiveThread | undefined;

  constructor(thread: LiveThread | undefined) {
    this.thread = thread;
  }

  get current(): LiveThread | undefined {
    return this.thread;
  }

  /** Disarms the guard: the session now owns the thread. */
  commit(): LiveThread | undefined {
    const thread = this.thread;
    this.thread = undefined;
    return thread;
  }

  /** Discards the thread, logging (not throwing) failures. */
  async discard(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined) return;
    try {
      await thread.discard();
    } catch (error) {
      console.warn(`failed to discard live thread ${thread.threadId}:`, error);
    }
  }
}

/** The turn a `task_complete` (or `turn_complete`) event closes, else null. */
function completedTurnId(item: RolloutItem): string | null {
  if (item.type !== 'event_msg') return null;
  const payload = item.payload as { type?: unknown; turn_id?: unknown };
  if (payload.type !== 'task_complete' && payload.type !== 'turn_complete') return null;
  return typeof payload.turn_id === 'string' && payload.turn_id !== '' ? payload.turn_id : null;
}
