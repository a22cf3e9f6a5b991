import type { ThreadId } from '@skein/protocol';
import type { StateDb } from '@skein/state';

/**
 * What `LocalThreadStore`'s file operations (archive, unarchive, delete) need of the store, handed to them
 * by the class without its internals: the home, the state handle of the moment, where warnings
 * go, and the writer rules.
 */
export interface LocalFileOpsHost {
  readonly codexHome: string;
  readonly stateDb: StateDb | undefined;
  warn(message: string): void;
  /** Refuses (`InvalidRequest`) while another process holds the thread's writer lock. */
  assertNoOtherWriter(threadId: ThreadId): Promise<void>;
  /** Refuses (`InvalidRequest`) a rollout path that is a link out of the home. */
  refuseLinkOutsideHome(path: string): Promise<void>;
  /** Discards this process's live writer of the thread, if any; its file path if it has one. */
  dropLiveWriter(threadId: ThreadId): Promise<string | null>;
}
