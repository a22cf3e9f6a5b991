import { resolve as resolvePath } from 'node:path';
import { RolloutError } from './errors.js';
import { lockFile, warnLocksUnavailable } from './file-locks.js';
import { sessionIndexLockPath } from './layout.js';

/*
 * The lock Codex 0.169 holds around every write of `session_index.jsonl`: `flock(LOCK_EX)` on
 * the 0-byte `session_index.jsonl.lock` (spec rollout-state §1, §4.7). Without it a rewrite
 * (thread deletion drops a thread's lines) can silently drop a name another process appended
 * between the rewrite's read and its rename. Taken through the process's flock helper
 * (file-locks.ts); where locks are unavailable, writes go unlocked (appends are still single
 * `O_APPEND` writes) and the process says so once.
 *
 * Lock requests of one process are served one at a time, so a holder must not take the lock
 * again inside its own work.
 */

/** How long a name-index write waits for another holder of the lock (10 s). */
export const DEFAULT_SESSION_INDEX_LOCK_TIMEOUT_MS = 10_000;

/** How long `withSessionIndexLock` waits for another holder. */
export interface SessionIndexLockOptions {
  /** How long to wait for another holder before failing (default 10 s). */
  timeoutMs?: number;
}

/** Runs `work` while holding the session-index lock; fails clearly if it stays held. */
export function withSessionIndexLock<T>(
  codexHome: string,
  work: () => Promise<T>,
  options: SessionIndexLockOptions = {},
): Promise<T> {
  const path = resolvePath(sessionIndexLockPath(codexHome));
  const timeoutMs = options.timeoutMs ?? DEFAULT_SESSION_INDEX_LOCK_TIMEOUT_MS;
  return oneAtATime(async () => {
    const result = await lockFile(path, { waitMs: timeoutMs });
    if (!result.locked && result.reason === 'unavailable') {
      warnLocksUnavailable();
      return work();
    }
    if (!result.locked) {
      throw new RolloutError(
        'Io',
        `timed out after ${timeoutMs} ms waiting for the session index lock ${path}; ` +
          'another Codex or Skein process may be suspended while holding it',
      );
    }
    try {
      return await work();
    } finally {
      await result.lock.release();
    }
  });
}

let queue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}
