/**
 * `ThreadManager`: the process-wide registry of loaded threads over ONE `ThreadStore`
 * (spec manager-appserver §1). It owns start / resume / fork, the loaded map, subscriptions per
 * connection with idle unload, the derived thread status, the single metadata entrypoint
 * (loaded → LiveThread, cold → store), and the cascades over the sub-agent tree.
 *
 * Event timing contract (so a server can answer before it notifies, spec §0.4):
 * - events that Codex sends *before* an operation's result (`statusChanged` for threads that
 *   an operation unloads or resumes) are emitted synchronously during the call;
 * - events that follow the result (`threadStarted`, `nameUpdated`, `archived`, `unarchived`,
 *   `deleted`) are emitted through `scheduleAfterResult` (default `setImmediate`), i.e. after
 *   the caller's `await` continuation has run, so write the response in that continuation.
 */
import { newThreadId } from '@skein/protocol';
import type {
  GitInfoPatch,
  LiveThreadOptions,
  RolloutItem,
  SessionSource,
  StoredThread,
  ThreadId,
  ThreadMemoryMode,
  ThreadMetadataPatch,
  ThreadReadState,
  ThreadStore,
  UpdateReadStateParams,
} from '@skein/thread-store';
import { type AgentGraph, defaultAgentGraph } from './agent-graph.js';
import {
  archiveThreadTree,
  type CascadeHost,
  deleteThreadTree,
  listAgentSubtree,
  unarchiveThreadTree,
} from './cascades.js';
import { ThreadManagerError } from './errors.js';
import { TypedEmitter } from './events.js';
import { forkManagedThread, spawnManagedSubagent } from './fork-thread.js';
import { eventType } from './history.js';
import type { LoadedThread, LoadedThreadHost } from './loaded-thread.js';
import type { Entry, ManagerHost } from './manager-host.js';
import { readManagedThread } from './read-thread.js';
import { resumeManagedThread } from './resume-thread.js';
import { startManagedThread } from './start-thread.js';
import {
  deriveThreadStatus,
  initialRuntimeFacts,
  isActive,
  NOT_LOADED,
  type RuntimeFacts,
  sameStatus,
  type ThreadStatus,
} from './status.js';
import { isMissingThread } from './store-errors.js';
import {
  type ConnectionId,
  DEFAULT_IDLE_UNLOAD_DELAY_MS,
  type ForkedThread,
  type ForkThreadOptions,
  type LoadedThreadPage,
  type ReadThreadOptions,
  type ResumedThread,
  type ResumeThreadOptions,
  type ShutdownReport,
  type SpawnSubagentOptions,
  type StartThreadOptions,
  type ThreadManagerEventName,
  type ThreadManagerEvents,
  type ThreadManagerOptions,
  type ThreadView,
  type UnsubscribeResult,
} from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The process-wide registry of loaded threads over one `ThreadStore`, as Codex's app-server keeps
 * it: start / resume / fork / read, subscriptions with idle unload, derived status, one metadata
 * entrypoint, and archive / unarchive / delete cascading over the sub-agent tree. Safe for
 * concurrent callers in one process.
 */
export class ThreadManager {
  readonly #store: ThreadStore;
  readonly #sessionSource: SessionSource;
  readonly #originator: string;
  readonly #cliVersion: string | undefined;
  readonly #defaultModelProvider: string;
  readonly #idleUnloadDelayMs: number;
  readonly #agentGraph: AgentGraph;
  readonly #liveThreadOptions: LiveThreadOptions;
  readonly #scheduleAfterResult: (emit: () => void) => void;
  readonly #onBackgroundError: (error: unknown) => void;
  readonly #now: () => number;
  readonly #events: TypedEmitter<ThreadManagerEvents>;
  readonly #entries = new Map<ThreadId, Entry>();
  readonly #connections = new Map<ConnectionId, Set<ThreadId>>();
  /** Cold resumes in flight, so concurrent resumes of one id share one runtime. */
  readonly #resuming = new Map<ThreadId, Promise<ResumedThread>>();
  /** Ids being unloaded whose entry is already gone from the map. */
  readonly #closing = new Set<ThreadId>();
  readonly #host: LoadedThreadHost;
  /** What the operation files need of the manager (see manager-host.ts). */
  readonly #managerHost: ManagerHost;

  constructor(options: ThreadManagerOptions) {
    this.#store = options.store;
    this.#sessionSource = options.sessionSource ?? 'vscode';
    this.#originator = options.originator ?? 'skein';
    this.#cliVersion = options.cliVersion;
    this.#defaultModelProvider = options.defaultModelProvider ?? 'openai';
    this.#idleUnloadDelayMs = Math.max(
      0,
      options.idleUnloadDelayMs ?? DEFAULT_IDLE_UNLOAD_DELAY_MS,
    );
    this.#agentGraph = options.agentGraph ?? defaultAgentGraph(options.store);
    this.#liveThreadOptions = options.liveThreadOptions ?? {};
    this.#scheduleAfterResult = options.scheduleAfterResult ?? ((emit) => setImmediate(emit));
    this.#onBackgroundError =
      options.onBackgroundError ??
      ((error) => console.error('[thread-manager] background error:', error));
    this.#now = options.now ?? Date.now;
    this.#events = new TypedEmitter(this.#onBackgroundError);
    this.#host = {
      statusOf: (threadId) => this.statusOf(threadId),
      onItemsRecorded: (threadId, items) => this.#observeTurnEvents(threadId, items),
      unloadThread: (threadId) => this.unloadThread(threadId),
    };
    this.#managerHost = {
      store: this.#store,
      sessionSource: this.#sessionSource,
      originator: this.#originator,
      cliVersion: this.#cliVersion,
      defaultModelProvider: this.#defaultModelProvider,
      liveThreadOptions: this.#liveThreadOptions,
      events: this.#events,
      entries: this.#entries,
      resuming: this.#resuming,
      closing: this.#closing,
      loadedThreadHost: this.#host,
      now: () => this.#now(),
      onBackgroundError: (error) => this.#onBackgroundError(error),
      emitAfterResult: (events) => this.#emitAfterResult(events),
      register: (thread, options) => this.#register(thread, options),
      prepareForRemoval: (threadId) => this.#prepareForRemoval(threadId),
      getThread: (threadId) => this.getThread(threadId),
      statusOf: (threadId) => this.statusOf(threadId),
      subscribe: (threadId, connectionId) => this.subscribe(threadId, connectionId),
    };
  }

  /** The process's store (for reads the manager does not wrap, e.g. `listThreads`). */
  get store(): ThreadStore {
    return this.#store;
  }

  get idleUnloadDelayMs(): number {
    return this.#idleUnloadDelayMs;
  }

  // -------------------------------------------------------------------------------------------
  // Events

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends ThreadManagerEventName>(
    name: K,
    listener: (payload: ThreadManagerEvents[K]) => void,
  ): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends ThreadManagerEventName>(
    name: K,
    listener: (payload: ThreadManagerEvents[K]) => void,
  ): void {
    this.#events.off(name, listener);
  }

  #emitAfterResult(events: readonly (() => void)[]): void {
    if (events.length === 0) return;
    this.#scheduleAfterResult(() => {
      for (const emit of events) emit();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Start / resume / fork

  /** Pre-allocates a thread id (UUIDv7) for a later `startThread({threadId})`. */
  reserveThreadId(): ThreadId {
    return newThreadId(this.#now());
  }

  /**
   * Starts a new thread. A durable thread gets a precomputed rollout path but nothing is
   * written until the first persist or a flush after history exists; an ephemeral thread
   * never reaches the store. Registers silently (status `idle`, no `statusChanged`), then
   * emits `threadStarted` after the result.
   */
  async startThread(options: StartThreadOptions): Promise<LoadedThread> {
    return startManagedThread(this.#managerHost, options);
  }

  /**
   * Resumes a thread from its stored history. An already-loaded thread is returned as is (its
   * stored history must exist: a pristine thread fails `no rollout found`), unless nobody is
   * subscribed, it is idle and the resume asks for another cwd or provider: then it is reloaded
   * with those (`statusChanged notLoaded`, then `idle`). A cold resume reopens the writer,
   * registers the thread and emits `statusChanged idle` before returning.
   */
  async resumeThread(
    threadId: ThreadId,
    options: ResumeThreadOptions = {},
  ): Promise<ResumedThread> {
    return resumeManagedThread(this.#managerHost, threadId, options);
  }

  /**
   * Forks a thread from a snapshot of its stored history: optional turn cut (`lastTurnId` /
   * `beforeTurnId`), then the snapshot policy (default `interrupted`). The fork gets a new
   * UUIDv7 id, `forkedFromId` = source and the source's name; a durable fork is written at
   * once. Emits `threadStarted` after the result.
   */
  async forkThread(sourceId: ThreadId, options: ForkThreadOptions = {}): Promise<ForkedThread> {
    return forkManagedThread(this.#managerHost, sourceId, options);
  }

  /**
   * Spawns a sub-agent of a loaded thread: a new thread whose source is
   * `{subagent:{thread_spawn:{parent_thread_id, depth, ...}}}` (the store records the spawn
   * edge from it), sharing the parent's session id. With `forkHistory`, the parent is
   * materialized and flushed first and the child starts from its `interrupted` snapshot.
   * Emits `threadStarted` after the result, like start.
   */
  async spawnSubagent(
    parentId: ThreadId,
    options: SpawnSubagentOptions = {},
  ): Promise<LoadedThread> {
    return spawnManagedSubagent(this.#managerHost, parentId, options);
  }

  // -------------------------------------------------------------------------------------------
  // Read receipts

  /**
   * Read states of stored threads (Codex 0.169's receipts); every thread reads as read, at
   * `initial:<id>`, in a store that keeps none.
   */
  async readStates(threadIds: readonly ThreadId[]): Promise<Map<ThreadId, ThreadReadState>> {
    if (this.#store.readStates !== undefined) return this.#store.readStates(threadIds);
    return new Map(
      threadIds.map((id) => [id, { firstUnread: null, revision: `initial:${id}` }] as const),
    );
  }

  /** Marks a thread read or unread; `Unsupported` in a store that keeps no receipts. */
  async updateReadState(params: UpdateReadStateParams): Promise<ThreadReadState> {
    if (this.#store.updateReadState === undefined) {
      throw ThreadManagerError.unsupported('read_receipts');
    }
    return this.#store.updateReadState(params);
  }

  // -------------------------------------------------------------------------------------------
  // Read / lookup / loaded list

  /**
   * Reads a thread without loading it. The stored view is preferred (archived included); a
   * loaded thread with nothing stored yet is returned as its live handle; otherwise
   * `thread not loaded: <id>`. With `includeHistory`, the refusals of spec §4 apply:
   * ephemeral ⇒ `ephemeral threads do not support <purpose>`; a loaded thread before its
   * first user message ⇒ `thread <id> is not materialized yet; ...` (legacy) or
   * `list_turns is not supported yet` (paginated, includeTurns).
   */
  async readThread(threadId: ThreadId, options: ReadThreadOptions = {}): Promise<ThreadView> {
    return readManagedThread(this.#managerHost, threadId, options);
  }

  /** The loaded thread, or `thread not found: <id>`. */
  getThread(threadId: ThreadId): LoadedThread {
    const entry = this.#entries.get(threadId);
    if (entry === undefined || entry.pendingUnload)
      throw ThreadManagerError.threadNotFound(threadId);
    return entry.thread;
  }

  /** The loaded thread or undefined. */
  lookupThread(threadId: ThreadId): LoadedThread | undefined {
    return this.#entries.get(threadId)?.thread;
  }

  isLoaded(threadId: ThreadId): boolean {
    return this.#entries.has(threadId);
  }

  /** Ids of every loaded thread, ascending. */
  listLoadedThreadIds(): ThreadId[] {
    return [...this.#entries.keys()].sort();
  }

  /**
   * A page of loaded ids, ascending (thread/loaded/list): `cursor` must be a thread id and the
   * page starts after it; `limit` default = all, `0` ⇒ 1; `nextCursor` = the page's last id
   * when more remain.
   */
  listLoadedThreads(
    params: { cursor?: string | null; limit?: number | null } = {},
  ): LoadedThreadPage {
    const cursor = params.cursor ?? null;
    if (cursor !== null && !UUID.test(cursor)) throw ThreadManagerError.invalidCursor(cursor);
    const ids = this.listLoadedThreadIds();
    const after = cursor === null ? ids : ids.filter((id) => id > cursor.toLowerCase());
    const limit = params.limit == null ? after.length : Math.max(1, params.limit);
    const data = after.slice(0, limit);
    const more = after.length > data.length;
    return { data, nextCursor: more ? (data.at(-1) ?? null) : null };
  }

  // -------------------------------------------------------------------------------------------
  // Status

  /** The derived status; `notLoaded` for threads not in the registry. */
  statusOf(threadId: ThreadId): ThreadStatus {
    return this.#entries.get(threadId)?.status ?? NOT_LOADED;
  }

  /** A turn started: the thread is active (and a previous system error is cleared). */
  noteTurnStarted(threadId: ThreadId): void {
    this.#updateFacts(threadId, (facts) => {
      facts.running = true;
      facts.hasSystemError = false;
    });
  }

  /** A turn completed or was interrupted: running and pending requests are cleared. */
  noteTurnEnded(threadId: ThreadId): void {
    this.#updateFacts(threadId, (facts) => {
      facts.running = false;
      facts.pendingPermissionRequests = 0;
      facts.pendingUserInputRequests = 0;
    });
  }

  /** A fatal turn error: the status becomes `systemError` once nothing is running. */
  noteSystemError(threadId: ThreadId): void {
    this.#updateFacts(threadId, (facts) => {
      facts.running = false;
      facts.hasSystemError = true;
    });
  }

  /** A pending approval request; call the returned function when it is answered. */
  beginPermissionRequest(threadId: ThreadId): () => void {
    return this.#beginPending(threadId, 'pendingPermissionRequests');
  }

  /** A pending user-input request; call the returned function when it is answered. */
  beginUserInputRequest(threadId: ThreadId): () => void {
    return this.#beginPending(threadId, 'pendingUserInputRequests');
  }

  #beginPending(
    threadId: ThreadId,
    counter: 'pendingPermissionRequests' | 'pendingUserInputRequests',
  ): () => void {
    const entry = this.#entries.get(threadId);
    if (entry === undefined) return () => {};
    this.#updateFacts(threadId, (facts) => {
      facts[counter] += 1;
    });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.#entries.get(threadId) !== entry) return;
      this.#updateFacts(threadId, (facts) => {
        facts[counter] = Math.max(0, facts[counter] - 1);
      });
    };
  }

  #observeTurnEvents(threadId: ThreadId, items: readonly RolloutItem[]): void {
    for (const item of items) {
      const kind = eventType(item);
      if (kind === 'task_started' || kind === 'turn_started') this.noteTurnStarted(threadId);
      else if (kind === 'task_complete' || kind === 'turn_complete' || kind === 'turn_aborted') {
        this.noteTurnEnded(threadId);
      }
    }
  }

  #updateFacts(threadId: ThreadId, change: (facts: RuntimeFacts) => void): void {
    const entry = this.#entries.get(threadId);
    if (entry === undefined) return;
    change(entry.facts);
    this.#refreshStatus(entry);
    this.#reconsiderUnload(entry);
  }

  #refreshStatus(entry: Entry): void {
    const next = deriveThreadStatus(entry.facts);
    if (sameStatus(next, entry.status)) return;
    entry.status = next;
    this.#events.emit('statusChanged', { threadId: entry.thread.threadId, status: next });
  }

  #register(thread: LoadedThread, options: { silent: boolean }): void {
    const facts = initialRuntimeFacts();
    const entry: Entry = {
      thread,
      facts,
      status: deriveThreadStatus(facts),
      subscribers: new Set(),
      everSubscribed: false,
      unloadTimer: undefined,
      pendingUnload: false,
    };
    this.#entries.set(thread.threadId, entry);
    if (!options.silent) {
      this.#events.emit('statusChanged', { threadId: thread.threadId, status: entry.status });
    }
  }

  /** Drops a thread from the registry and subscriptions; emits `notLoaded` when it changes. */
  #deregister(entry: Entry): void {
    const threadId = entry.thread.threadId;
    if (this.#entries.get(threadId) !== entry) return;
    this.#entries.delete(threadId);
    this.#clearUnloadTimer(entry);
    for (const connection of entry.subscribers) this.#connections.get(connection)?.delete(threadId);
    entry.subscribers.clear();
    if (entry.status.type !== 'notLoaded') {
      entry.status = NOT_LOADED;
      this.#events.emit('statusChanged', { threadId, status: NOT_LOADED });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions and idle unload

  /**
   * Subscribes a connection to a loaded thread (start/resume/fork do it for their caller).
   * Returns false when it already was. Cancels a pending idle unload.
   */
  subscribe(threadId: ThreadId, connectionId: ConnectionId): boolean {
    const entry = this.#entries.get(threadId);
    if (entry === undefined) throw ThreadManagerError.threadNotFound(threadId);
    if (entry.pendingUnload) throw ThreadManagerError.threadClosing(threadId, 'subscribe');
    if (entry.subscribers.has(connectionId)) return false;
    entry.subscribers.add(connectionId);
    entry.everSubscribed = true;
    let threads = this.#connections.get(connectionId);
    if (threads === undefined) {
      threads = new Set();
      this.#connections.set(connectionId, threads);
    }
    threads.add(threadId);
    this.#reconsiderUnload(entry);
    return true;
  }

  /**
   * `thread/unsubscribe`: `notLoaded` if the thread is not loaded, `notSubscribed` if the
   * connection was not subscribed, else `unsubscribed`. The last subscriber leaving starts the
   * idle-unload countdown (then `statusChanged notLoaded` and `closed`).
   */
  unsubscribe(threadId: ThreadId, connectionId: ConnectionId): UnsubscribeResult {
    const entry = this.#entries.get(threadId);
    if (entry === undefined || entry.pendingUnload) return 'notLoaded';
    if (!entry.subscribers.delete(connectionId)) return 'notSubscribed';
    this.#connections.get(connectionId)?.delete(threadId);
    this.#reconsiderUnload(entry);
    return 'unsubscribed';
  }

  /** A connection closed: it is unsubscribed from every thread. Returns the threads left alone. */
  removeConnection(connectionId: ConnectionId): ThreadId[] {
    const threads = this.#connections.get(connectionId);
    this.#connections.delete(connectionId);
    const orphaned: ThreadId[] = [];
    for (const threadId of threads ?? []) {
      const entry = this.#entries.get(threadId);
      if (entry === undefined || !entry.subscribers.delete(connectionId)) continue;
      if (entry.subscribers.size === 0) orphaned.push(threadId);
      this.#reconsiderUnload(entry);
    }
    return orphaned.sort();
  }

  /** Connections subscribed to a thread. */
  subscribersOf(threadId: ThreadId): ConnectionId[] {
    return [...(this.#entries.get(threadId)?.subscribers ?? [])];
  }

  /** Threads a connection is subscribed to, ascending. */
  subscriptionsOf(connectionId: ConnectionId): ThreadId[] {
    return [...(this.#connections.get(connectionId) ?? [])].sort();
  }

  /**
   * Idle unload runs when a thread that has had subscribers has none left AND is not active,
   * for the whole delay; a subscriber or activity in between cancels the countdown.
   */
  #reconsiderUnload(entry: Entry): void {
    const eligible =
      !entry.pendingUnload &&
      entry.everSubscribed &&
      entry.subscribers.size === 0 &&
      !isActive(entry.facts);
    if (!eligible) {
      this.#clearUnloadTimer(entry);
      return;
    }
    if (entry.unloadTimer !== undefined) return;
    entry.unloadTimer = setTimeout(() => {
      entry.unloadTimer = undefined;
      if (this.#entries.get(entry.thread.threadId) !== entry) return;
      if (entry.subscribers.size > 0 || isActive(entry.facts)) return;
      this.unloadThread(entry.thread.threadId).catch(this.#onBackgroundError);
    }, this.#idleUnloadDelayMs);
    entry.unloadTimer.unref?.();
  }

  #clearUnloadTimer(entry: Entry): void {
    if (entry.unloadTimer === undefined) return;
    clearTimeout(entry.unloadTimer);
    entry.unloadTimer = undefined;
  }

  /**
   * The unload sequence: mark pending (resume now fails `thread <id> is closing`), shut the
   * writer down (flushing pending metadata), drop the thread, emit `statusChanged notLoaded`,
   * then `closed`. Returns false if the thread was not loaded. A pristine or ephemeral thread
   * is gone afterwards.
   */
  async unloadThread(threadId: ThreadId): Promise<boolean> {
    const entry = this.#entries.get(threadId);
    if (entry === undefined || entry.pendingUnload) return false;
    entry.pendingUnload = true;
    this.#clearUnloadTimer(entry);
    this.#closing.add(threadId);
    try {
      await entry.thread.close();
    } catch (error) {
      this.#onBackgroundError(error);
    } finally {
      this.#closing.delete(threadId);
      this.#deregister(entry);
    }
    this.#events.emit('closed', { threadId });
    return true;
  }

  /** Cascade preparation: shut a loaded member down and drop it (`statusChanged notLoaded`). */
  async #prepareForRemoval(threadId: ThreadId): Promise<void> {
    const entry = this.#entries.get(threadId);
    if (entry === undefined) return;
    entry.pendingUnload = true;
    this.#clearUnloadTimer(entry);
    this.#closing.add(threadId);
    try {
      await entry.thread.close();
    } finally {
      this.#closing.delete(threadId);
      this.#deregister(entry);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  /**
   * THE metadata entrypoint. A loaded durable thread goes through its LiveThread (ordered with
   * its history writes; a pristine thread is materialized first); a loaded ephemeral thread
   * fails `ephemeral thread does not support metadata updates: <id>`; a thread that is not
   * loaded goes straight to the store (not loading it). Unknown ⇒ `no rollout found ...`.
   */
  async updateThreadMetadata(
    threadId: ThreadId,
    patch: ThreadMetadataPatch,
    options: { includeArchived?: boolean } = {},
  ): Promise<StoredThread> {
    const includeArchived = options.includeArchived ?? false;
    const entry = this.#entries.get(threadId);
    try {
      if (entry !== undefined && !entry.pendingUnload) {
        return await entry.thread.applyMetadata((live) =>
          live.updateMetadata(patch, includeArchived),
        );
      }
      if (!includeArchived) await this.#assertActiveStored(threadId);
      return await this.#store.updateThreadMetadata({ threadId, patch, includeArchived });
    } catch (error) {
      if (isMissingThread(error)) throw ThreadManagerError.noRolloutFound(threadId, error);
      throw error;
    }
  }

  /** Fails `no rollout found` unless the store holds the thread un-archived. */
  async #assertActiveStored(threadId: ThreadId): Promise<StoredThread> {
    let stored: StoredThread;
    try {
      stored = await this.#store.readThread({ threadId, includeArchived: true });
    } catch (error) {
      if (isMissingThread(error)) throw ThreadManagerError.noRolloutFound(threadId, error);
      throw error;
    }
    if (stored.archivedAtMs !== null) throw ThreadManagerError.noRolloutFound(threadId);
    return stored;
  }

  /**
   * `thread/name/set`: trims the name (empty ⇒ `thread name must not be empty`), updates it
   * through the metadata entrypoint (archived threads refused), emits `nameUpdated` after.
   */
  async setThreadName(threadId: ThreadId, name: string): Promise<StoredThread> {
    const normalized = name.trim();
    if (normalized === '') throw ThreadManagerError.invalidRequest('thread name must not be empty');
    const stored = await this.updateThreadMetadata(threadId, { name: normalized });
    this.#emitAfterResult([
      () => this.#events.emit('nameUpdated', { threadId, threadName: normalized }),
    ]);
    return stored;
  }

  /**
   * `thread/metadata/update` git fields: omitted = unchanged, null = clear, string = trimmed
   * replacement. Validation texts follow Codex. Archived threads are allowed; no event.
   */
  async updateThreadGitInfo(
    threadId: ThreadId,
    gitInfo: GitInfoPatch | null | undefined,
  ): Promise<StoredThread> {
    if (gitInfo == null) {
      throw ThreadManagerError.invalidRequest(
        'thread metadata update must include at least one field',
      );
    }
    const patch: GitInfoPatch = {};
    for (const key of ['sha', 'branch', 'originUrl'] as const) {
      const value = gitInfo[key];
      if (value === undefined) continue;
      if (value === null) {
        patch[key] = null;
        continue;
      }
      const trimmed = value.trim();
      if (trimmed === '')
        throw ThreadManagerError.invalidRequest(`gitInfo.${key} must not be empty`);
      patch[key] = trimmed;
    }
    if (Object.keys(patch).length === 0) {
      throw ThreadManagerError.invalidRequest('gitInfo must include at least one field');
    }
    return this.updateThreadMetadata(threadId, { gitInfo: patch }, { includeArchived: true });
  }

  /** Sets a thread's memory mode through the metadata entrypoint. */
  async setThreadMemoryMode(threadId: ThreadId, mode: ThreadMemoryMode): Promise<StoredThread> {
    return this.updateThreadMetadata(threadId, { memoryMode: mode }, { includeArchived: true });
  }

  // -------------------------------------------------------------------------------------------
  // Cascades over the agent tree

  /**
   * `[threadId]`, then its persisted spawn descendants (breadth first), then loaded
   * descendants the store does not know yet (live sub-agents), de-duplicated.
   */
  async listAgentSubtreeThreadIds(threadId: ThreadId): Promise<ThreadId[]> {
    return listAgentSubtree(this.#cascadeHost(), threadId);
  }

  /**
   * Archives a thread and its spawn descendants. The root must be stored and not archived
   * (`no rollout found for thread id <id>`; ephemeral likewise); a loaded pristine root is
   * materialized first (Codex 0.169). Loaded members are shut down (`statusChanged notLoaded`
   * during the call); missing descendants are skipped. `archived` events after the result:
   * root, then descendants in reverse discovery order (P, G, C).
   */
  async archiveThread(threadId: ThreadId): Promise<{ archivedThreadIds: ThreadId[] }> {
    return archiveThreadTree(this.#cascadeHost(), threadId);
  }

  /**
   * Restores an archived thread and its archived spawn descendants. Not archived / unknown ⇒
   * `no archived rollout found for thread id <id>`. `unarchived` events after the result:
   * root, then descendants in discovery order (P, C, G).
   */
  async unarchiveThread(
    threadId: ThreadId,
  ): Promise<{ thread: StoredThread; unarchivedThreadIds: ThreadId[] }> {
    return unarchiveThreadTree(this.#cascadeHost(), threadId);
  }

  /**
   * Hard-deletes a thread and its spawn descendants (active or archived). Ephemeral ⇒
   * `thread is not persisted and cannot be deleted: <id>`; unknown ⇒ `no rollout found ...`; a
   * loaded never-materialized thread can be deleted. Loaded members are shut down first.
   * `deleted` events after the result, deepest first, root last (G, C, P).
   */
  async deleteThread(threadId: ThreadId): Promise<{ deletedThreadIds: ThreadId[] }> {
    return deleteThreadTree(this.#cascadeHost(), threadId);
  }

  /** What the cascades need of the manager, without its internals. */
  #cascadeHost(): CascadeHost {
    return {
      store: this.#store,
      agentGraph: this.#agentGraph,
      loadedThread: (threadId) => this.#entries.get(threadId)?.thread,
      loadedThreadIds: () => this.listLoadedThreadIds(),
      assertActiveStored: (threadId) => this.#assertActiveStored(threadId),
      prepareForRemoval: (threadId) => this.#prepareForRemoval(threadId),
      emitAfterResult: (kind, threadIds) =>
        this.#emitAfterResult(
          threadIds.map((id) => () => this.#events.emit(kind, { threadId: id })),
        ),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Drops a thread from the registry without shutting its writer down (the caller owns the
   * handle). Emits `statusChanged notLoaded`.
   */
  removeThread(threadId: ThreadId): LoadedThread | undefined {
    const entry = this.#entries.get(threadId);
    if (entry === undefined) return undefined;
    this.#deregister(entry);
    return entry.thread;
  }

  /**
   * Shuts every loaded thread down concurrently, bounded by `timeoutMs`. Only completed ones
   * are removed; each list is sorted by id.
   */
  async shutdownAll(timeoutMs: number): Promise<ShutdownReport> {
    const report: ShutdownReport = { completed: [], submitFailed: [], timedOut: [] };
    const entries = [...this.#entries.values()];
    const timeout = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof timeout>((resolve) => {
      timer = setTimeout(() => resolve(timeout), Math.max(0, timeoutMs));
    });
    try {
      await Promise.all(
        entries.map(async (entry) => {
          const threadId = entry.thread.threadId;
          this.#clearUnloadTimer(entry);
          entry.pendingUnload = true;
          try {
            const outcome = await Promise.race([entry.thread.close(), deadline]);
            if (outcome === timeout) {
              report.timedOut.push(threadId);
              entry.pendingUnload = false;
              return;
            }
            report.completed.push(threadId);
            this.#deregister(entry);
          } catch (error) {
            this.#onBackgroundError(error);
            entry.pendingUnload = false;
            report.submitFailed.push(threadId);
          }
        }),
      );
    } finally {
      clearTimeout(timer);
    }
    report.completed.sort();
    report.submitFailed.sort();
    report.timedOut.sort();
    return report;
  }
}
