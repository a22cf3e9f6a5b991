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
import { eventUserMessage } from '@skein/rollout';
import {
  type CreateThreadParams,
  type GitInfoPatch,
  LiveThread,
  type LiveThreadOptions,
  type RolloutItem,
  type SessionSource,
  type StoredThread,
  type ThreadId,
  type ThreadMemoryMode,
  type ThreadMetadataPatch,
  type ThreadReadState,
  type ThreadStore,
  type UpdateReadStateParams,
} from '@skein/thread-store';
import { type AgentGraph, defaultAgentGraph } from './agent-graph.js';
import {
  archiveThreadTree,
  type CascadeHost,
  deleteThreadTree,
  listAgentSubtree,
  unarchiveThreadTree,
} from './cascades.js';
import { isThreadManagerError, ThreadManagerError } from './errors.js';
import { TypedEmitter } from './events.js';
import {
  applyForkSnapshot,
  eventType,
  truncateBeforeTurn,
  truncateThroughTurn,
} from './history.js';
import { LoadedThread, type LoadedThreadHost } from './loaded-thread.js';
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

interface Entry {
  thread: LoadedThread;
  facts: RuntimeFacts;
  status: ThreadStatus;
  subscribers: Set<ConnectionId>;
  everSubscribed: boolean;
  unloadTimer: NodeJS.Timeout | undefined;
  pendingUnload: boolean;
}

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
    const threadId = options.threadId ?? newThreadId(this.#now());
    if (this.#entries.has(threadId) || this.#closing.has(threadId)) {
      throw ThreadManagerError.threadAlreadyRunning(threadId);
    }
    const parentSessionId =
      options.parentThreadId == null
        ? undefined
        : this.#entries.get(options.parentThreadId)?.thread.sessionId;
    const ephemeral = options.ephemeral ?? false;
    const params: CreateThreadParams = {
      threadId,
      sessionId: options.sessionId ?? parentSessionId ?? threadId,
      forkedFromId: null,
      parentThreadId: options.parentThreadId ?? null,
      source: options.source ?? this.#sessionSource,
      threadSource: options.threadSource ?? null,
      originator: options.originator ?? this.#originator,
      ...(this.#cliVersion === undefined ? {} : { cliVersion: this.#cliVersion }),
      baseInstructions:
        options.baseInstructions == null ? null : { text: options.baseInstructions },
      dynamicTools: options.dynamicTools ?? [],
      historyMode: options.historyMode ?? this.#store.defaultHistoryMode(),
      metadata: {
        cwd: options.cwd,
        modelProvider: options.modelProvider ?? this.#defaultModelProvider,
        memoryMode: options.memoryMode ?? 'enabled',
      },
    };
    const live = ephemeral
      ? null
      : await LiveThread.create(this.#store, params, this.#liveThreadOptions);
    const now = this.#now();
    const thread = new LoadedThread(
      {
        threadId,
        sessionId: params.sessionId ?? threadId,
        ephemeral,
        forkedFromId: null,
        parentThreadId: params.parentThreadId ?? null,
        cwd: options.cwd,
        modelProvider: params.metadata.modelProvider,
        model: options.model ?? null,
        reasoningEffort: options.reasoningEffort ?? null,
        source: params.source,
        threadSource: params.threadSource ?? null,
        originator: params.originator,
        historyMode: params.historyMode ?? 'legacy',
        memoryMode: params.metadata.memoryMode,
        loadedAtMs: now,
        createdAtMs: now,
        name: null,
      },
      { live, host: this.#host, history: [], materialized: false },
    );
    this.#register(thread, { silent: true });
    if (options.connectionId !== undefined) this.subscribe(threadId, options.connectionId);
    this.#emitAfterResult([() => this.#events.emit('threadStarted', { thread })]);
    return thread;
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
    const closing = (): boolean =>
      this.#closing.has(threadId) || this.#entries.get(threadId)?.pendingUnload === true;
    if (closing()) throw ThreadManagerError.threadClosing(threadId, 'resume');
    const loaded = this.#entries.get(threadId);
    if (loaded !== undefined && !loaded.thread.ephemeral) await loaded.thread.flush();
    // The flush awaited: the thread may be unloading (or gone, then it resumes cold) now.
    if (closing()) throw ThreadManagerError.threadClosing(threadId, 'resume');
    const entry = this.#entries.get(threadId);
    if (entry !== undefined && this.#wantsColdReload(entry, options)) {
      // Idle, unsubscribed and asked for other settings: reload it with them (Codex does too).
      await this.#prepareForRemoval(threadId);
    } else if (entry !== undefined) {
      // Codex 0.169 resumes a loaded paginated thread by listing its turns: one it has not
      // written yet has none to list.
      const bare = entry.thread;
      if (
        !bare.ephemeral &&
        bare.historyMode === 'paginated' &&
        !bare.hasRecordedItems &&
        (await bare.isWritten())
      ) {
        throw ThreadManagerError.unsupported('list_turns');
      }
      const history = await entry.thread.loadHistory();
      const stored = await entry.thread.readStored();
      if (options.connectionId !== undefined) this.subscribe(threadId, options.connectionId);
      return { thread: entry.thread, stored, history, alreadyLoaded: true };
    }
    const inflight = this.#resuming.get(threadId);
    if (inflight !== undefined) {
      const resumed = await inflight;
      if (options.connectionId !== undefined) this.subscribe(threadId, options.connectionId);
      return { ...resumed, alreadyLoaded: true };
    }
    const resume = this.#coldResume(threadId, options);
    this.#resuming.set(threadId, resume);
    try {
      const resumed = await resume;
      if (options.connectionId !== undefined) this.subscribe(threadId, options.connectionId);
      return resumed;
    } finally {
      this.#resuming.delete(threadId);
    }
  }

  /** A loaded thread nobody uses, resumed with a different cwd or provider. */
  #wantsColdReload(entry: Entry, options: ResumeThreadOptions): boolean {
    const { thread } = entry;
    const differs =
      (options.cwd !== undefined && options.cwd !== thread.cwd) ||
      (options.modelProvider !== undefined && options.modelProvider !== thread.modelProvider);
    return (
      differs &&
      !thread.ephemeral &&
      thread.materialized &&
      entry.subscribers.size === 0 &&
      !isActive(entry.facts)
    );
  }

  async #coldResume(threadId: ThreadId, options: ResumeThreadOptions): Promise<ResumedThread> {
    const stored = await this.#readStoredForHistory(threadId);
    const history = stored.history?.items ?? [];
    const live = await LiveThread.resume(
      this.#store,
      {
        threadId,
        rolloutPath: stored.rolloutPath,
        history,
        includeArchived: false,
        metadata: {
          cwd: options.cwd ?? stored.cwd,
          modelProvider: options.modelProvider ?? stored.modelProvider,
          memoryMode: options.memoryMode ?? 'enabled',
        },
      },
      this.#liveThreadOptions,
    );
    const thread = new LoadedThread(
      {
        threadId,
        sessionId: resumedSessionId(history, threadId, stored.source),
        ephemeral: false,
        forkedFromId: stored.forkedFromId,
        parentThreadId: stored.parentThreadId,
        cwd: options.cwd ?? stored.cwd,
        modelProvider: options.modelProvider ?? stored.modelProvider,
        model: stored.model,
        reasoningEffort: stored.reasoningEffort,
        source: stored.source,
        threadSource: stored.threadSource,
        // A resumed thread stays the one its creator wrote (a fork of it inherits that).
        originator: stored.originator ?? this.#originator,
        historyMode: stored.historyMode,
        memoryMode: options.memoryMode ?? 'enabled',
        loadedAtMs: this.#now(),
        createdAtMs: stored.createdAtMs,
        name: stored.name,
      },
      { live, host: this.#host, history, materialized: true },
    );
    if (this.#entries.has(threadId)) {
      // Started under this id meanwhile: keep the registered runtime, release ours.
      await live.discard().catch(this.#onBackgroundError);
      throw ThreadManagerError.threadAlreadyRunning(threadId);
    }
    this.#register(thread, { silent: false });
    return { thread, stored: { ...stored, history: null }, history, alreadyLoaded: false };
  }

  /**
   * Reads a stored thread with its history for resume/fork: missing ⇒ `no rollout found`,
   * archived ⇒ `session <id> is archived. ...`.
   */
  /**
   * Codex 0.169's answer when the history of a thread it knows as paginated (a row, say, made
   * by a metadata update before the first message) cannot be read because the file is
   * missing; null when the thread is not such a one.
   */
  async #missingLineage(threadId: ThreadId): Promise<ThreadManagerError | null> {
    try {
      const stored = await this.#store.readThread({ threadId, includeArchived: true });
      if (stored.historyMode !== 'paginated') return null;
    } catch {
      return null;
    }
    return ThreadManagerError.invalidRequest(
      `invalid paginated history lineage for ${threadId}: missing source rollout`,
      threadId,
    );
  }

  async #readStoredForHistory(threadId: ThreadId): Promise<StoredThread> {
    let stored: StoredThread;
    try {
      stored = await this.#store.readThread({
        threadId,
        includeArchived: true,
        includeHistory: true,
      });
    } catch (error) {
      if (isMissingThread(error)) throw ThreadManagerError.noRolloutFound(threadId, error);
      throw error;
    }
    if (stored.archivedAtMs !== null) throw ThreadManagerError.threadArchived(threadId);
    return stored;
  }

  /**
   * Forks a thread from a snapshot of its stored history: optional turn cut (`lastTurnId` /
   * `beforeTurnId`), then the snapshot policy (default `interrupted`). The fork gets a new
   * UUIDv7 id, `forkedFromId` = source and the source's name; a durable fork is written at
   * once. Emits `threadStarted` after the result.
   */
  async forkThread(sourceId: ThreadId, options: ForkThreadOptions = {}): Promise<ForkedThread> {
    const sourceEntry = this.#entries.get(sourceId);
    let source: StoredThread | null;
    let sourceHistory: RolloutItem[];
    if (sourceEntry !== undefined) {
      try {
        sourceHistory = await sourceEntry.thread.loadHistory();
      } catch (error) {
        // A paginated source written bare (its turns read before its first message): Codex
        // 0.169 forks it all the same, from nothing.
        const bare =
          sourceEntry.thread.historyMode === 'paginated' &&
          !sourceEntry.thread.hasRecordedItems &&
          sourceEntry.thread.materialized;
        if (!bare || !isThreadManagerError(error, 'NoRolloutFound')) throw error;
        sourceHistory = [];
      }
      source = await sourceEntry.thread.readStored();
    } else {
      let stored: StoredThread;
      try {
        stored = await this.#readStoredForHistory(sourceId);
      } catch (error) {
        if (isThreadManagerError(error, 'NoRolloutFound')) {
          throw (await this.#missingLineage(sourceId)) ?? error;
        }
        throw error;
      }
      sourceHistory = stored.history?.items ?? [];
      source = { ...stored, history: null };
    }
    // The fork writes its own session meta; the source's would confuse readers that take the last.
    let items = sourceHistory.filter(
      (item): item is Exclude<RolloutItem, { type: 'session_meta' }> =>
        item.type !== 'session_meta',
    ) as RolloutItem[];
    if (options.lastTurnId !== undefined) items = truncateThroughTurn(items, options.lastTurnId);
    if (options.beforeTurnId !== undefined) items = truncateBeforeTurn(items, options.beforeTurnId);
    items = applyForkSnapshot(items, options.snapshot ?? { kind: 'interrupted' });

    const threadId = newThreadId(this.#now());
    const ephemeral = options.ephemeral ?? false;
    const cwd = options.cwd ?? source?.cwd ?? sourceEntry?.thread.cwd ?? '';
    const modelProvider =
      options.modelProvider ??
      source?.modelProvider ??
      sourceEntry?.thread.modelProvider ??
      this.#defaultModelProvider;
    const historyMode =
      source?.historyMode ?? sourceEntry?.thread.historyMode ?? this.#store.defaultHistoryMode();
    // A durable fork of a paginated thread references its source's history (Codex 0.169):
    // nothing is copied; the fork's file starts where the (cut) source history ends.
    // A loaded source with no history (written bare) has nothing to reference: the fork starts
    // empty and leaves the source free to be deleted (Codex 0.169).
    const sourceWritten = sourceEntry === undefined || sourceEntry.thread.hasRecordedItems;
    const historyBase =
      historyMode === 'paginated' &&
      !ephemeral &&
      sourceWritten &&
      this.#store.forkBase !== undefined
        ? await this.#store.forkBase(sourceId, forkCut(items, options))
        : null;
    const params: CreateThreadParams = {
      threadId,
      sessionId: threadId,
      forkedFromId: sourceId,
      parentThreadId: null,
      source: options.source ?? this.#sessionSource,
      threadSource: options.threadSource ?? null,
      originator: options.originator ?? this.#originator,
      ...(this.#cliVersion === undefined ? {} : { cliVersion: this.#cliVersion }),
      historyMode,
      historyBase,
      metadata: { cwd, modelProvider, memoryMode: options.memoryMode ?? 'enabled' },
    };
    const name = source?.name ?? sourceEntry?.thread.name ?? null;
    const model = options.model !== undefined ? options.model : (source?.model ?? null);
    const reasoningEffort =
      options.reasoningEffort !== undefined
        ? options.reasoningEffort
        : (source?.reasoningEffort ?? null);
    let live: LiveThread | null = null;
    if (!ephemeral) {
      const created = await LiveThread.create(this.#store, params, this.#liveThreadOptions);
      try {
        // The copied history's turns are the source's: they publish no read receipt (0.169).
        if (historyBase === null && items.length > 0) {
          await created.appendItems(items, { receipts: false });
        }
        await created.persist();
        // A fork by reference has no messages of its own yet: it shows its source's preview,
        // or, cut at a turn, the first message of the history it keeps (Codex 0.169).
        const cut = options.lastTurnId !== undefined || options.beforeTurnId !== undefined;
        const inherited = cut ? (firstUserMessageOf(items) ?? source?.preview) : source?.preview;
        const preview = historyBase !== null && inherited ? inherited : null;
        if (name !== null || preview !== null || model !== null || reasoningEffort !== null) {
          await created.updateMetadata(
            {
              ...(name !== null ? { name } : {}),
              ...(preview !== null ? { preview } : {}),
              ...(model !== null ? { model } : {}),
              ...(reasoningEffort !== null ? { reasoningEffort } : {}),
            },
            false,
          );
        }
      } catch (error) {
        // Release the writer; what was already written stays (a fork without its name).
        await created.discard().catch(this.#onBackgroundError);
        throw error;
      }
      live = created;
    }
    const now = this.#now();
    const thread = new LoadedThread(
      {
        threadId,
        sessionId: threadId,
        ephemeral,
        forkedFromId: sourceId,
        parentThreadId: null,
        cwd,
        modelProvider,
        model,
        reasoningEffort,
        source: params.source,
        threadSource: params.threadSource ?? null,
        originator: params.originator,
        historyMode,
        memoryMode: params.metadata.memoryMode,
        loadedAtMs: now,
        createdAtMs: now,
        name,
      },
      {
        live,
        host: this.#host,
        history: items,
        materialized: !ephemeral,
        settingsGiven: options.model !== undefined || options.reasoningEffort !== undefined,
      },
    );
    this.#register(thread, { silent: true });
    if (options.connectionId !== undefined) this.subscribe(threadId, options.connectionId);
    this.#emitAfterResult([() => this.#events.emit('threadStarted', { thread })]);
    return { thread, source, history: items };
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
    const parent = this.getThread(parentId);
    const parentSpawn =
      typeof parent.source === 'object' && 'subagent' in parent.source
        ? parent.source.subagent
        : undefined;
    const parentDepth =
      typeof parentSpawn === 'object' && 'thread_spawn' in parentSpawn
        ? parentSpawn.thread_spawn.depth
        : 0;
    let history: RolloutItem[] = [];
    if (options.forkHistory === true) {
      await parent.persist();
      history = applyForkSnapshot(
        (await parent.loadHistory()).filter((item) => item.type !== 'session_meta'),
        { kind: 'interrupted' },
      );
    }
    const child = await this.startThread({
      cwd: options.cwd ?? parent.cwd,
      modelProvider: parent.modelProvider,
      model: parent.model,
      reasoningEffort: parent.reasoningEffort,
      parentThreadId: parentId,
      sessionId: parent.sessionId,
      threadSource: 'subagent',
      source: {
        subagent: {
          thread_spawn: {
            parent_thread_id: parentId,
            depth: parentDepth + 1,
            agent_path: options.agentPath ?? null,
            agent_nickname: options.agentNickname ?? null,
            agent_role: options.agentRole ?? null,
          },
        },
      },
      ...(options.connectionId === undefined ? {} : { connectionId: options.connectionId }),
    });
    if (history.length > 0) await child.recordItems(history);
    return child;
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
    const entry = this.#entries.get(threadId);
    const loaded = entry?.thread ?? null;
    const purpose = options.historyPurpose ?? 'includeTurns';
    if (options.includeHistory === true && loaded !== null) {
      if (loaded.ephemeral) throw ThreadManagerError.ephemeralHistory(threadId, purpose);
      if (!loaded.hasUserMessage) {
        // Codex 0.169 on a paginated thread before its first message: asked for its turns by
        // `thread/read`, it writes the thread out bare and has none to list; a thread written
        // bare has none to list for `thread/turns/list` either. Otherwise (never written, or
        // written with items but no message) it is not materialized yet.
        if (loaded.historyMode === 'paginated' && !loaded.hasRecordedItems) {
          const written = await loaded.isWritten();
          if (purpose === 'includeTurns' && !written) await loaded.persist();
          if (purpose === 'includeTurns' || written) {
            throw ThreadManagerError.unsupported('list_turns');
          }
        }
        throw ThreadManagerError.notMaterialized(threadId, purpose);
      }
    }
    let stored: StoredThread | null = null;
    if (loaded === null) {
      try {
        stored = await this.#store.readThread({
          threadId,
          includeArchived: true,
          includeHistory: options.includeHistory === true,
        });
      } catch (error) {
        if (isMissingThread(error)) {
          const lineage =
            options.includeHistory === true ? await this.#missingLineage(threadId) : null;
          throw lineage ?? ThreadManagerError.threadNotLoaded(threadId);
        }
        throw error;
      }
    } else if (!loaded.ephemeral) {
      stored = await loaded.readStored();
    }
    let history: RolloutItem[] | null = null;
    if (options.includeHistory === true) {
      if (loaded !== null) {
        history = await loaded.loadHistory();
      } else {
        // A stored thread without a message yet (named, say, before its first turn) has an
        // empty history in Codex 0.169, whatever its mode.
        history = stored?.history?.items ?? [];
      }
    }
    if (stored !== null) stored = { ...stored, history: null };
    return { threadId, stored, loaded, status: this.statusOf(threadId), history };
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

/**
 * Where a paginated fork's inherited history ends: after the last turn the cut keeps (the
 * whole source when nothing is cut).
 */
function forkCut(
  kept: readonly RolloutItem[],
  options: Pick<ForkThreadOptions, 'lastTurnId' | 'beforeTurnId'>,
): { afterTurnId?: string } {
  if (options.lastTurnId !== undefined) return { afterTurnId: options.lastTurnId };
  if (options.beforeTurnId === undefined) return {};
  for (let index = kept.length - 1; index >= 0; index -= 1) {
    const item = kept[index];
    if (item?.type !== 'event_msg') continue;
    const payload = item.payload as { type?: unknown; turn_id?: unknown };
    if (payload.type === 'task_complete' && typeof payload.turn_id === 'string') {
      return { afterTurnId: payload.turn_id };
    }
  }
  // Nothing of the source kept: a reference fork cannot start before the first turn.
  throw ThreadManagerError.invalidRequest(
    `cannot fork before turn ${options.beforeTurnId}: no completed turn precedes it`,
  );
}

/** The text of the first user message among rollout items (its list preview), if any. */
function firstUserMessageOf(items: readonly RolloutItem[]): string | null {
  for (const item of items) {
    if (item.type !== 'event_msg') continue;
    const text = eventUserMessage(item.payload as Parameters<typeof eventUserMessage>[0]);
    if (text?.preview) return text.preview;
  }
  return null;
}

/**
 * The session a cold-resumed thread runs in, as 0.169 answers it: the session its own session
 * meta names (a sub-agent shares its root's); a sub-agent whose meta names none (0.131 wrote it)
 * gets a session of its own, new; any other thread is its own session.
 */
function resumedSessionId(
  history: readonly RolloutItem[],
  threadId: ThreadId,
  source: SessionSource,
): string {
  const meta = history.find(
    (item) =>
      item.type === 'session_meta' &&
      String((item.payload as { id?: unknown }).id ?? '').toLowerCase() === threadId,
  );
  const named = (meta?.payload as { session_id?: unknown } | undefined)?.session_id;
  if (typeof named === 'string' && named !== '') return named;
  const subAgent = typeof source === 'object' && source !== null && 'subagent' in source;
  return subAgent ? newThreadId() : threadId;
}
