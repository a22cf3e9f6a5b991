import type { FsyncPolicy, HeldFileLock, RolloutRecorder } from '@skein/rollout';
import type { StateDb } from '@skein/state';
import type { collectGitInfo } from '../git-info.js';
import type { ThreadHistoryMode, ThreadId } from '../types.js';
import type { ThreadProjection } from './paginated.js';

/** A thread this process is writing: its recorder and what goes with it. */
export interface LiveWriterEntry {
  writer: RolloutRecorder;
  historyMode: ThreadHistoryMode;
  /** Paginated threads in a home with Codex 0.169's DB: the projection kept in step. */
  projection?: ThreadProjection | undefined;
  /** Codex's writer lock (`thread-writer-locks/<id>.lock`), held while the writer is open. */
  lock?: HeldFileLock | undefined;
  /** The row was seen naming the writer's file: later flushes skip the lookup. */
  rowPathSynced?: boolean;
}

/**
 * What `LocalThreadStore`'s operation files (create, resume, read, metadata, read receipts)
 * need of the store, handed to them by the class: the home, the state handle of the moment
 * (a getter: `attachStateDb` may set it later), the live writers, where warnings go, and the
 * writer lock.
 */
export interface LocalStoreHost {
  readonly codexHome: string;
  readonly defaultModelProvider: string;
  readonly stateDb: StateDb | undefined;
  readonly writers: Map<ThreadId, LiveWriterEntry>;
  readonly gitInfo: typeof collectGitInfo;
  /** Where the writers' flushes fsync (undefined: the process's default policy). */
  readonly fsyncPolicy: FsyncPolicy | undefined;
  warn(message: string): void;
  /** Codex's writer lock for a thread; refused while another process holds it. */
  takeWriterLock(threadId: ThreadId): Promise<HeldFileLock | undefined>;
}
