import type { LiveThreadOptions, SessionSource, ThreadId, ThreadStore } from '@skein/thread-store';
import type { TypedEmitter } from './events.js';
import type { LoadedThread, LoadedThreadHost } from './loaded-thread.js';
import type { RuntimeFacts, ThreadStatus } from './status.js';
import type { ConnectionId, ResumedThread, ThreadManagerEvents } from './types.js';

/** A loaded thread in the manager's map, with its runtime facts, status and subscribers. */
export interface Entry {
  thread: LoadedThread;
  facts: RuntimeFacts;
  status: ThreadStatus;
  subscribers: Set<ConnectionId>;
  everSubscribed: boolean;
  unloadTimer: NodeJS.Timeout | undefined;
  pendingUnload: boolean;
}

/**
 * What `ThreadManager`'s operation files (start, resume, fork, read, the loaded registry,
 * metadata, shutdown) need of the manager,
 * handed to them by the class without its private fields: its options, its maps (the same
 * objects the class holds), its events, and the steps they share with it.
 */
export interface ManagerHost {
  readonly store: ThreadStore;
  readonly sessionSource: SessionSource;
  readonly originator: string;
  readonly cliVersion: string | undefined;
  readonly defaultModelProvider: string;
  readonly liveThreadOptions: LiveThreadOptions;
  readonly events: TypedEmitter<ThreadManagerEvents>;
  readonly entries: Map<ThreadId, Entry>;
  /** Each connection's subscribed threads. */
  readonly connections: Map<ConnectionId, Set<ThreadId>>;
  readonly idleUnloadDelayMs: number;
  /** Cold resumes in flight, so concurrent resumes of one id share one runtime. */
  readonly resuming: Map<ThreadId, Promise<ResumedThread>>;
  /** Ids being unloaded whose entry is already gone from the map. */
  readonly closing: Set<ThreadId>;
  /** What each `LoadedThread` is given of the manager. */
  readonly loadedThreadHost: LoadedThreadHost;
  now(): number;
  onBackgroundError(error: unknown): void;
  emitAfterResult(events: readonly (() => void)[]): void;
  register(thread: LoadedThread, options: { silent: boolean }): void;
  prepareForRemoval(threadId: ThreadId): Promise<void>;
  getThread(threadId: ThreadId): LoadedThread;
  statusOf(threadId: ThreadId): ThreadStatus;
  subscribe(threadId: ThreadId, connectionId: ConnectionId): boolean;
}
