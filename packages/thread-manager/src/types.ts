/**
 * The ThreadManager's vocabulary: its options, the options and results of its operations, its
 * events. Declared apart from the class so each operation can be read on its own.
 */
import type {
  CreateThreadParams,
  LiveThreadOptions,
  RolloutItem,
  SessionSource,
  StoredThread,
  ThreadHistoryMode,
  ThreadId,
  ThreadMemoryMode,
  ThreadSource,
  ThreadStore,
} from '@skein/thread-store';
import type { AgentGraph } from './agent-graph.js';
import type { HistoryPurpose } from './errors.js';
import type { ForkSnapshot } from './history.js';
import type { LoadedThread } from './loaded-thread.js';
import type { ThreadStatus } from './status.js';

/** A client connection (the app-server's connection id); any string or number. */
export type ConnectionId = string | number;

/** Codex's default idle-unload delay (`thread_unload_delay_secs = 60`). */
export const DEFAULT_IDLE_UNLOAD_DELAY_MS = 60_000;

/**
 * The events a `ThreadManager` emits and their payloads (see the class for when each is emitted
 * relative to an operation's result).
 */
export interface ThreadManagerEvents {
  /** A thread was started or forked (not resumed); `thread.status` is already `idle`. */
  threadStarted: { thread: LoadedThread };
  /** The derived status of a thread changed (`notLoaded` when it leaves the registry). */
  statusChanged: { threadId: ThreadId; status: ThreadStatus };
  /** A name was set through `setThreadName` (normalized; null when cleared). */
  nameUpdated: { threadId: ThreadId; threadName: string | null };
  archived: { threadId: ThreadId };
  unarchived: { threadId: ThreadId };
  deleted: { threadId: ThreadId };
  /** A thread was unloaded (idle unload or explicit), after its `statusChanged` notLoaded. */
  closed: { threadId: ThreadId };
}

/** The name of a `ThreadManagerEvents` event. */
export type ThreadManagerEventName = keyof ThreadManagerEvents;

/**
 * A `ThreadManager`'s wiring: its one store, the source and originator it stamps on new threads,
 * the idle unload delay, the sub-agent graph, and hooks for deferring events and reporting
 * background errors.
 */
export interface ThreadManagerOptions {
  /** The one store of the process. */
  store: ThreadStore;
  /** Source stamped on threads this process creates (Codex's app-server records `vscode`). */
  sessionSource?: SessionSource;
  /** Originator stamped on new threads (the app-server passes the client name). */
  originator?: string;
  /**
   * `cli_version` recorded on threads this manager starts or forks (the Codex version whose
   * format the program writes); default: the store's own (`SKEIN_CLI_VERSION`).
   */
  cliVersion?: string;
  /** Provider recorded when a start does not name one. */
  defaultModelProvider?: string;
  /** Idle unload delay after the last subscriber leaves; 0 = immediately. Default 60 s. */
  idleUnloadDelayMs?: number;
  /** Spawn-edge source for cascades; defaults to the store's `directChildrenOf` listing. */
  agentGraph?: AgentGraph;
  /** Passed to every LiveThread (e.g. the metadata touch interval). */
  liveThreadOptions?: LiveThreadOptions;
  /** How events that follow an operation's result are deferred. Default `setImmediate`. */
  scheduleAfterResult?: (emit: () => void) => void;
  /** Reports errors nobody awaits (listener throws, background unloads). Default: stderr. */
  onBackgroundError?: (error: unknown) => void;
  /** Clock (ms); injectable for tests. */
  now?: () => number;
}

/**
 * A new thread's facts: cwd (required), provider, model, history mode, source, sub-agent parent, a
 * pre-allocated id, and the connection to subscribe.
 */
export interface StartThreadOptions {
  /** Working directory of the thread (the local store requires one). */
  cwd: string;
  modelProvider?: string;
  model?: string | null;
  reasoningEffort?: string | null;
  /** Ephemeral threads live only in memory: no path, never in the store. */
  ephemeral?: boolean;
  historyMode?: ThreadHistoryMode;
  memoryMode?: ThreadMemoryMode;
  source?: SessionSource;
  threadSource?: ThreadSource | null;
  originator?: string;
  baseInstructions?: string | null;
  dynamicTools?: CreateThreadParams['dynamicTools'];
  /** Sub-agents: the spawning thread (with a `{subagent:{thread_spawn}}` source). */
  parentThreadId?: ThreadId | null;
  /** Shared by a root thread and its sub-agents; defaults to the parent's or the own id. */
  sessionId?: string;
  /** A pre-allocated id (UUIDv7); a new one otherwise. */
  threadId?: ThreadId;
  /** Subscribes this connection to the new thread. */
  connectionId?: ConnectionId;
}

/**
 * A sub-agent's facts (nickname, role, path), whether it starts from the parent's history, and its
 * cwd and connection.
 */
export interface SpawnSubagentOptions {
  cwd?: string;
  agentNickname?: string | null;
  agentRole?: string | null;
  agentPath?: string | null;
  /** Start the child from the parent's history (interrupted snapshot). */
  forkHistory?: boolean;
  connectionId?: ConnectionId;
}

/**
 * Overrides for a cold resume's writer (cwd, provider, memory mode) and the connection to
 * subscribe.
 */
export interface ResumeThreadOptions {
  /** Overrides for the reopened writer (cold resume only). */
  cwd?: string;
  modelProvider?: string;
  memoryMode?: ThreadMemoryMode;
  connectionId?: ConnectionId;
}

/**
 * A resume's result: the loaded thread, its stored view, the history it was resumed from, and
 * whether it was loaded already.
 */
export interface ResumedThread {
  thread: LoadedThread;
  /** The stored view (null only for a loaded thread the store cannot read). */
  stored: StoredThread | null;
  /** The durable history the thread was resumed from. */
  history: RolloutItem[];
  /** True when the thread was already loaded and is returned as is. */
  alreadyLoaded: boolean;
}

/**
 * How `forkThread` cuts and stamps the copy: a turn boundary (`lastTurnId` inclusive or
 * `beforeTurnId`), the snapshot policy (default `interrupted`), and overrides for the new thread.
 */
export interface ForkThreadOptions {
  /** Keep history through this turn (inclusive); unknown ⇒ `turn not found: <id>`. */
  lastTurnId?: string;
  /** Keep history strictly before this turn. */
  beforeTurnId?: string;
  /** Snapshot policy after the turn cut; default `interrupted`. */
  snapshot?: ForkSnapshot;
  ephemeral?: boolean;
  cwd?: string;
  modelProvider?: string;
  /**
   * The model and reasoning effort the fork runs on (Codex 0.169 forks onto the session's
   * configured model and records it); absent = the source's.
   */
  model?: string | null;
  reasoningEffort?: string | null;
  source?: SessionSource;
  threadSource?: ThreadSource | null;
  originator?: string;
  memoryMode?: ThreadMemoryMode;
  connectionId?: ConnectionId;
}

/** A fork: the new loaded thread, the source's stored view, and the copied (cut) history. */
export interface ForkedThread {
  thread: LoadedThread;
  /** The source's stored view. */
  source: StoredThread | null;
  /** The new thread's history (the copied, cut source history). */
  history: RolloutItem[];
  /**
   * The source's whole stored history, before the cut: the settings a fork starts from are the
   * source's latest (0.169.0), even when the cut leaves them out.
   */
  sourceHistory: readonly RolloutItem[];
}

/**
 * Whether `readThread` also returns the history, and for which request (it selects Codex's refusal
 * texts).
 */
export interface ReadThreadOptions {
  /** Also return the thread's history (for turns). */
  includeHistory?: boolean;
  /** Which request wants the history: selects the refusal texts. Default `includeTurns`. */
  historyPurpose?: HistoryPurpose;
}

/** What `readThread` knows about a thread: the stored view, the live handle, or both. */
export interface ThreadView {
  threadId: ThreadId;
  stored: StoredThread | null;
  loaded: LoadedThread | null;
  status: ThreadStatus;
  history: RolloutItem[] | null;
}

/**
 * A page of loaded thread ids (`thread/loaded/list`), ascending, with the cursor of the next page.
 */
export interface LoadedThreadPage {
  data: ThreadId[];
  nextCursor: ThreadId | null;
}

/**
 * What `unsubscribe` did: `unsubscribed`, `notSubscribed` (the connection was not), or `notLoaded`
 * (no such loaded thread).
 */
export type UnsubscribeResult = 'unsubscribed' | 'notSubscribed' | 'notLoaded';

/**
 * What `shutdownAll` got done within its bound: threads shut down, threads whose shutdown failed,
 * threads still running at the deadline.
 */
export interface ShutdownReport {
  completed: ThreadId[];
  submitFailed: ThreadId[];
  timedOut: ThreadId[];
}
