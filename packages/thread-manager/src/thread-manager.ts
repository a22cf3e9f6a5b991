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
import {
  beginPermissionRequest,
  beginUserInputRequest,
  noteSystemError,
  noteTurnEnded,
  noteTurnStarted,
  observeTurnEvents,
  prepareForRemoval,
  register,
  removeConnection,
  subscribeConnection,
  subscribersOf,
  subscriptionsOf,
  unloadLoadedThread,
  unsubscribeConnection,
} from './loaded-registry.js';
import type { LoadedThread, LoadedThreadHost } from './loaded-thread.js';
import type { Entry, ManagerHost } from './manager-host.js';
import { readManagedThread } from './read-thread.js';
import { resumeManagedThread } from './resume-thread.js';
import { removeLoadedThread, shutdownAllThreads } from './shutdown.js';
import { startManagedThread } from './start-thread.js';
import { NOT_LOADED, type ThreadStatus } from './status.js';
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
import {
  assertActiveStored,
  setManagedThreadMemoryMode,
  setManagedThreadName,
  updateManagedThreadGitInfo,
  updateManagedThreadMetadata,
} from './update-thread-metadata.js';

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
      onItemsRecorded: (threadId, items) => observeTurnEvents(this.#managerHost, threadId, items),
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
      connections: this.#connections,
      idleUnloadDelayMs: this.#idleUnloadDelayMs,
      resuming: this.#resuming,
      closing: this.#closing,
      loadedThreadHost: this.#host,
      now: () => this.#now(),
      onBackgroundError: (error) => this.#onBackgroundError(error),
      emitAfterResult: (events) => this.#emitAfterResult(events),
      register: (thread, options) => register(this.#managerHost, thread, options),
      prepareForRemoval: (threadId) => prepareForRemoval(this.#managerHost, threadId),
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

  /** Starts a new thread, idle and subscribed-to by nobody yet (see start-thread.ts). */
  async startThread(options: StartThreadOptions): Promise<LoadedThread> {
    return startManagedThread(this.#managerHost, options);
  }

  /** Resumes a thread from its stored history, or returns it loaded (see resume-thread.ts). */
  async resumeThread(
    threadId: ThreadId,
    options: ResumeThreadOptions = {},
  ): Promise<ResumedThread> {
    return resumeManagedThread(this.#managerHost, threadId, options);
  }

  /** Forks a thread from a snapshot of its stored history (see fork-thread.ts). */
  async forkThread(sourceId: ThreadId, options: ForkThreadOptions = {}): Promise<ForkedThread> {
    return forkManagedThread(this.#managerHost, sourceId, options);
  }

  /** Spawns a sub-agent of a loaded thread (see fork-thread.ts). */
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
    noteTurnStarted(this.#managerHost, threadId);
  }

  /** A turn completed or was interrupted: running and pending requests are cleared. */
  noteTurnEnded(threadId: ThreadId): void {
    noteTurnEnded(this.#managerHost, threadId);
  }

  /** A fatal turn error: the status becomes `systemError` once nothing is running. */
  noteSystemError(threadId: ThreadId): void {
    noteSystemError(this.#managerHost, threadId);
  }

  /** A pending approval request; call the returned function when it is answered. */
  beginPermissionRequest(threadId: ThreadId): () => void {
    return beginPermissionRequest(this.#managerHost, threadId);
  }

  /** A pending user-input request; call the returned function when it is answered. */
  beginUserInputRequest(threadId: ThreadId): () => void {
    return beginUserInputRequest(this.#managerHost, threadId);
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions and idle unload

  /**
   * Subscribes a connection to a loaded thread (start/resume/fork do it for their caller).
   * Returns false when it already was. Cancels a pending idle unload.
   */
  subscribe(threadId: ThreadId, connectionId: ConnectionId): boolean {
    return subscribeConnection(this.#managerHost, threadId, connectionId);
  }

  /**
   * `thread/unsubscribe`: `notLoaded` if the thread is not loaded, `notSubscribed` if the
   * connection was not subscribed, else `unsubscribed`. The last subscriber leaving starts the
   * idle-unload countdown (then `statusChanged notLoaded` and `closed`).
   */
  unsubscribe(threadId: ThreadId, connectionId: ConnectionId): UnsubscribeResult {
    return unsubscribeConnection(this.#managerHost, threadId, connectionId);
  }

  /** A connection closed: it is unsubscribed from every thread. Returns the threads left alone. */
  removeConnection(connectionId: ConnectionId): ThreadId[] {
    return removeConnection(this.#managerHost, connectionId);
  }

  /** Connections subscribed to a thread. */
  subscribersOf(threadId: ThreadId): ConnectionId[] {
    return subscribersOf(this.#managerHost, threadId);
  }

  /** Threads a connection is subscribed to, ascending. */
  subscriptionsOf(connectionId: ConnectionId): ThreadId[] {
    return subscriptionsOf(this.#managerHost, connectionId);
  }

  /**
   * The unload sequence: mark pending (resume now fails `thread <id> is closing`), shut the
   * writer down (flushing pending metadata), drop the thread, emit `statusChanged notLoaded`,
   * then `closed`. Returns false if the thread was not loaded. A pristine or ephemeral thread
   * is gone afterwards.
   */
  async unloadThread(threadId: ThreadId): Promise<boolean> {
    return unloadLoadedThread(this.#managerHost, threadId);
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  /**
   * THE metadata entrypoint: a loaded thread through its LiveThread, one not loaded straight
   * to the store (see update-thread-metadata.ts).
   */
  async updateThreadMetadata(
    threadId: ThreadId,
    patch: ThreadMetadataPatch,
    options: { includeArchived?: boolean } = {},
  ): Promise<StoredThread> {
    return updateManagedThreadMetadata(this.#managerHost, threadId, patch, options);
  }

  /**
   * `thread/name/set`: trims the name (empty ⇒ `thread name must not be empty`), updates it
   * through the metadata entrypoint (archived threads refused), emits `nameUpdated` after.
   */
  async setThreadName(threadId: ThreadId, name: string): Promise<StoredThread> {
    return setManagedThreadName(this.#managerHost, threadId, name);
  }

  /**
   * `thread/metadata/update` git fields: omitted = unchanged, null = clear, string = trimmed
   * replacement. Validation texts follow Codex. Archived threads are allowed; no event.
   */
  async updateThreadGitInfo(
    threadId: ThreadId,
    gitInfo: GitInfoPatch | null | undefined,
  ): Promise<StoredThread> {
    return updateManagedThreadGitInfo(this.#managerHost, threadId, gitInfo);
  }

  /** Sets a thread's memory mode through the metadata entrypoint. */
  async setThreadMemoryMode(threadId: ThreadId, mode: ThreadMemoryMode): Promise<StoredThread> {
    return setManagedThreadMemoryMode(this.#managerHost, threadId, mode);
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
      assertActiveStored: (threadId) => assertActiveStored(this.#managerHost, threadId),
      prepareForRemoval: (threadId) => prepareForRemoval(this.#managerHost, threadId),
      emitAfterResult: (kind, threadIds) =>
        this.#emitAfterResult(
          threadIds.map((id) => () => this.#events.emit(kind, { threadId: id })),
        ),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /** Drops a thread from the registry, its writer left open (see shutdown.ts). */
  removeThread(threadId: ThreadId): LoadedThread | undefined {
    return removeLoadedThread(this.#managerHost, threadId);
  }

  /** Shuts every loaded thread down concurrently, bounded by `timeoutMs` (see shutdown.ts). */
  async shutdownAll(timeoutMs: number): Promise<ShutdownReport> {
    return shutdownAllThreads(this.#managerHost, timeoutMs);
  }
}
