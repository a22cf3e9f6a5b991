/**
 * What every conformance suite file shares: the store under test's capabilities and harness,
 * the error assertion, and the per-test setup with its thread builders.
 */
import { expect } from 'vitest';
import { ThreadStoreError, type ThreadStoreErrorCode } from '../../errors.js';
import { LiveThread } from '../../live-thread.js';
import type { ThreadStore } from '../../thread-store.js';
import type { RolloutItem, ThreadId } from '../../types.js';
import {
  createThreadParams,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '../items.js';

/**
 * What a store under test supports; the suite skips what it lacks (and checks that it is refused
 * as `Unsupported`).
 */
export interface ThreadStoreCapabilities {
  /** Threads have local rollout paths; `readThreadByRolloutPath` works. */
  rolloutPaths: boolean;
  /** Live writers are tracked: duplicates are refused, appends after shutdown fail. */
  liveWriters: boolean;
  /** `createThread` refuses a thread without a cwd. */
  requiresCwd: boolean;
  /** Archive hides a thread from active reads and lists; unarchive restores it. */
  archive: boolean;
  /** `listThreads` honours sort, direction, page size, cursors and filters. */
  listing: boolean;
  /** Explicit git patches are stored (partial updates, clears). */
  gitMetadata: boolean;
  /** `listTurns` is implemented. */
  turns: boolean;
  /** `searchThreads` is implemented. */
  search: boolean;
  /**
   * Codex 0.169's paginated history is written (a local store in a home with a 0.169 DB);
   * without it, creating a paginated thread fails `Unsupported(paginated_threads)`.
   */
  paginatedHistory?: boolean;
  /** `listItems` is implemented (optional; default false). */
  items?: boolean;
}

/**
 * A fresh store for one test: the store, a cwd for its threads, how to reopen it over the same
 * backing, and cleanup.
 */
export interface ThreadStoreHarness {
  store: ThreadStore;
  /** A directory threads may use as their cwd. */
  cwd: string;
  /** A second store over the same durable backing (a restart), if the store is durable. */
  reopen?: () => Promise<ThreadStore> | ThreadStore;
  cleanup?: () => Promise<void> | void;
}

/**
 * `describeThreadStoreConformance`'s options: a label, a harness factory, and the store's
 * capabilities.
 */
export interface ThreadStoreConformanceOptions {
  /** Label of the `describe` block. */
  name: string;
  /** A fresh, empty store per test. */
  createHarness: () => Promise<ThreadStoreHarness> | ThreadStoreHarness;
  capabilities: ThreadStoreCapabilities;
}

/**
 * Awaits `promise` and asserts it rejects with a `ThreadStoreError` of one of `codes` (and a
 * message including `messageIncludes`); returns the error.
 */
export async function expectThreadStoreError(
  promise: Promise<unknown>,
  codes: ThreadStoreErrorCode | readonly ThreadStoreErrorCode[],
  messageIncludes?: string,
): Promise<ThreadStoreError> {
  const accepted = typeof codes === 'string' ? [codes] : codes;
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected the call to reject').toBeInstanceOf(ThreadStoreError);
  const error = caught as ThreadStoreError;
  expect(accepted).toContain(error.code);
  if (messageIncludes !== undefined) expect(error.message).toContain(messageIncludes);
  return error;
}

/** What each suite file gets from `describeThreadStoreConformance`. */
export interface ConformanceSuite {
  caps: ThreadStoreCapabilities;
  /** A fresh harness for the current test, cleaned up after it. */
  setup(): Promise<ThreadStoreHarness>;
  /** A live thread with one user turn, persisted and flushed. */
  recordThread(
    h: ThreadStoreHarness,
    message: string,
    extra?: readonly RolloutItem[],
  ): Promise<{ threadId: ThreadId; live: LiveThread }>;
  /** A persisted thread of one turn per id: started, a user message, complete. */
  threadWithTurns(h: ThreadStoreHarness, turnIds: readonly string[]): Promise<ThreadId>;
}

/** A live thread with one user turn, persisted and flushed. */
export async function recordThread(
  h: ThreadStoreHarness,
  message: string,
  extra: readonly RolloutItem[] = [],
): Promise<{ threadId: ThreadId; live: LiveThread }> {
  const params = createThreadParams(h.cwd);
  const live = await LiveThread.create(h.store, params, { collectGitInfo: async () => null });
  await live.appendItems([userMessageItem(message), ...extra]);
  await live.persist();
  await live.flush();
  return { threadId: params.threadId, live };
}

/** A persisted thread of one turn per id: started, a user message, complete. */
export async function threadWithTurns(
  h: ThreadStoreHarness,
  turnIds: readonly string[],
): Promise<ThreadId> {
  const params = createThreadParams(h.cwd);
  await h.store.createThread(params);
  for (const turn of turnIds) {
    await h.store.appendItems({
      threadId: params.threadId,
      items: [turnStartedItem(turn), userMessageItem(`ask ${turn}`), turnCompleteItem(turn)],
    });
  }
  await h.store.persistThread(params.threadId);
  return params.threadId;
}
