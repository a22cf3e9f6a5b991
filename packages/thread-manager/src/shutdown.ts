/**
 * `ThreadManager.removeThread` and `shutdownAll`: drop a thread from the registry without
 * closing it, and close every loaded thread concurrently within a deadline.
 *
 * Crash safety: each close is the LiveThread's shutdown (the store's flush and its crash
 * note); the manager keeps nothing durable, so a crash mid-way leaves each thread as far as
 * its own shutdown got.
 */
import type { ThreadId } from '@skein/thread-store';
import { clearUnloadTimer, deregister } from './loaded-registry.js';
import type { LoadedThread } from './loaded-thread.js';
import type { ManagerHost } from './manager-host.js';
import type { ShutdownReport } from './types.js';

/**
 * Drops a thread from the registry without shutting its writer down (the caller owns the
 * handle). Emits `statusChanged notLoaded`.
 */
export function removeLoadedThread(
  host: ManagerHost,
  threadId: ThreadId,
): LoadedThread | undefined {
  const entry = host.entries.get(threadId);
  if (entry === undefined) return undefined;
  deregister(host, entry);
  return entry.thread;
}

/**
 * Shuts every loaded thread down concurrently, bounded by `timeoutMs`. Only completed ones
 * are removed; each list is sorted by id.
 */
export async function shutdownAllThreads(
  host: ManagerHost,
  timeoutMs: number,
): Promise<ShutdownReport> {
  const report: ShutdownReport = { completed: [], submitFailed: [], timedOut: [] };
  const entries = [...host.entries.values()];
  const timeout = Symbol('timeout');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof timeout>((resolve) => {
    timer = setTimeout(() => resolve(timeout), Math.max(0, timeoutMs));
  });
  try {
    await Promise.all(
      entries.map(async (entry) => {
        const threadId = entry.thread.threadId;
        clearUnloadTimer(entry);
        entry.pendingUnload = true;
        try {
          const outcome = await Promise.race([entry.thread.close(), deadline]);
          if (outcome === timeout) {
            report.timedOut.push(threadId);
            entry.pendingUnload = false;
            return;
          }
          report.completed.push(threadId);
          deregister(host, entry);
        } catch (error) {
          host.onBackgroundError(error);
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
