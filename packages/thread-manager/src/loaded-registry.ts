/**
 * The manager's registry of loaded threads: registering and dropping them, their derived
 * status (turns, pending requests, system errors), subscriptions per connection, and the idle
 * unload that follows the last subscriber leaving an inactive thread.
 *
 * Crash safety: all in memory; an unload is the LiveThread's shutdown (the store's flush and
 * its crash note), so a crash mid-unload leaves the thread as far as that shutdown got.
 */
import type { RolloutItem, ThreadId } from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import { eventType } from './history.js';
import type { LoadedThread } from './loaded-thread.js';
import type { Entry, ManagerHost } from './manager-host.js';
import {
  deriveThreadStatus,
  initialRuntimeFacts,
  isActive,
  NOT_LOADED,
  type RuntimeFacts,
  sameStatus,
} from './status.js';
import type { ConnectionId, UnsubscribeResult } from './types.js';

/** A turn started: the thread is active (and a previous system error is cleared). */
export function noteTurnStarted(host: ManagerHost, threadId: ThreadId): void {
  updateFacts(host, threadId, (facts) => {
    facts.running = true;
    facts.hasSystemError = false;
  });
}

/** A turn completed or was interrupted: running and pending requests are cleared. */
export function noteTurnEnded(host: ManagerHost, threadId: ThreadId): void {
  updateFacts(host, threadId, (facts) => {
    facts.running = false;
    facts.pendingPermissionRequests = 0;
    facts.pendingUserInputRequests = 0;
  });
}

/** A fatal turn error: the status becomes `systemError` once nothing is running. */
export function noteSystemError(host: ManagerHost, threadId: ThreadId): void {
  updateFacts(host, threadId, (facts) => {
    facts.running = false;
    facts.hasSystemError = true;
  });
}

/** A pending approval request; call the returned function when it is answered. */
export function beginPermissionRequest(host: ManagerHost, threadId: ThreadId): () => void {
  return beginPending(host, threadId, 'pendingPermissionRequests');
}

/** A pending user-input request; call the returned function when it is answered. */
export function beginUserInputRequest(host: ManagerHost, threadId: ThreadId): () => void {
  return beginPending(host, threadId, 'pendingUserInputRequests');
}

function beginPending(
  host: ManagerHost,
  threadId: ThreadId,
  counter: 'pendingPermissionRequests' | 'pendingUserInputRequests',
): () => void {
  const entry = host.entries.get(threadId);
  if (entry === undefined) return () => {};
  updateFacts(host, threadId, (facts) => {
    facts[counter] += 1;
  });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (host.entries.get(threadId) !== entry) return;
    updateFacts(host, threadId, (facts) => {
      facts[counter] = Math.max(0, facts[counter] - 1);
    });
  };
}

export function observeTurnEvents(
  host: ManagerHost,
  threadId: ThreadId,
  items: readonly RolloutItem[],
): void {
  for (const item of items) {
    const kind = eventType(item);
    if (kind === 'task_started' || kind === 'turn_started') noteTurnStarted(host, threadId);
    else if (kind === 'task_complete' || kind === 'turn_complete' || kind === 'turn_aborted') {
      noteTurnEnded(host, threadId);
    }
  }
}

function updateFacts(
  host: ManagerHost,
  threadId: ThreadId,
  change: (facts: RuntimeFacts) => void,
): void {
  const entry = host.entries.get(threadId);
  if (entry === undefined) return;
  change(entry.facts);
  refreshStatus(host, entry);
  reconsiderUnload(host, entry);
}

function refreshStatus(host: ManagerHost, entry: Entry): void {
  const next = deriveThreadStatus(entry.facts);
  if (sameStatus(next, entry.status)) return;
  entry.status = next;
  host.events.emit('statusChanged', { threadId: entry.thread.threadId, status: next });
}

export function register(
  host: ManagerHost,
  thread: LoadedThread,
  options: { silent: boolean },
): void {
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
  host.entries.set(thread.threadId, entry);
  if (!options.silent) {
    host.events.emit('statusChanged', { threadId: thread.threadId, status: entry.status });
  }
}

/** Drops a thread from the registry and subscriptions; emits `notLoaded` when it changes. */
export function deregister(host: ManagerHost, entry: Entry): void {
  const threadId = entry.thread.threadId;
  if (host.entries.get(threadId) !== entry) return;
  host.entries.delete(threadId);
  clearUnloadTimer(entry);
  for (const connection of entry.subscribers) host.connections.get(connection)?.delete(threadId);
  entry.subscribers.clear();
  if (entry.status.type !== 'notLoaded') {
    entry.status = NOT_LOADED;
    host.events.emit('statusChanged', { threadId, status: NOT_LOADED });
  }
}

/**
 * Subscribes a connection to a loaded thread (start/resume/fork do it for their caller).
 * Returns false when it already was. Cancels a pending idle unload.
 */
export function subscribeConnection(
  host: ManagerHost,
  threadId: ThreadId,
  connectionId: ConnectionId,
): boolean {
  const entry = host.entries.get(threadId);
  if (entry === undefined) throw ThreadManagerError.threadNotFound(threadId);
  if (entry.pendingUnload) throw ThreadManagerError.threadClosing(threadId, 'subscribe');
  if (entry.subscribers.has(connectionId)) return false;
  entry.subscribers.add(connectionId);
  entry.everSubscribed = true;
  let threads = host.connections.get(connectionId);
  if (threads === undefined) {
    threads = new Set();
    host.connections.set(connectionId, threads);
  }
  threads.add(threadId);
  reconsiderUnload(host, entry);
  return true;
}

/**
 * `thread/unsubscribe`: `notLoaded` if the thread is not loaded, `notSubscribed` if the
 * connection was not subscribed, else `unsubscribed`. The last subscriber leaving starts the
 * idle-unload countdown (then `statusChanged notLoaded` and `closed`).
 */
export function unsubscribeConnection(
  host: ManagerHost,
  threadId: ThreadId,
  connectionId: ConnectionId,
): UnsubscribeResult {
  const entry = host.entries.get(threadId);
  if (entry === undefined || entry.pendingUnload) return 'notLoaded';
  if (!entry.subscribers.delete(connectionId)) return 'notSubscribed';
  host.connections.get(connectionId)?.delete(threadId);
  reconsiderUnload(host, entry);
  return 'unsubscribed';
}

/** A connection closed: it is unsubscribed from every thread. Returns the threads left alone. */
export function removeConnection(host: ManagerHost, connectionId: ConnectionId): ThreadId[] {
  const threads = host.connections.get(connectionId);
  host.connections.delete(connectionId);
  const orphaned: ThreadId[] = [];
  for (const threadId of threads ?? []) {
    const entry = host.entries.get(threadId);
    if (entry === undefined || !entry.subscribers.delete(connectionId)) continue;
    if (entry.subscribers.size === 0) orphaned.push(threadId);
    reconsiderUnload(host, entry);
  }
  return orphaned.sort();
}

/** Connections subscribed to a thread. */
export function subscribersOf(host: ManagerHost, threadId: ThreadId): ConnectionId[] {
  return [...(host.entries.get(threadId)?.subscribers ?? [])];
}

/** Threads a connection is subscribed to, ascending. */
export function subscriptionsOf(host: ManagerHost, connectionId: ConnectionId): ThreadId[] {
  return [...(host.connections.get(connectionId) ?? [])].sort();
}

/**
 * Idle unload runs when a thread that has had subscribers has none left AND is not active,
 * for the whole delay; a subscriber or activity in between cancels the countdown.
 */
function reconsiderUnload(host: ManagerHost, entry: Entry): void {
  const eligible =
    !entry.pendingUnload &&
    entry.everSubscribed &&
    entry.subscribers.size === 0 &&
    !isActive(entry.facts);
  if (!eligible) {
    clearUnloadTimer(entry);
    return;
  }
  if (entry.unloadTimer !== undefined) return;
  entry.unloadTimer = setTimeout(() => {
    entry.unloadTimer = undefined;
    if (host.entries.get(entry.thread.threadId) !== entry) return;
    if (entry.subscribers.size > 0 || isActive(entry.facts)) return;
    unloadLoadedThread(host, entry.thread.threadId).catch(host.onBackgroundError);
  }, host.idleUnloadDelayMs);
  entry.unloadTimer.unref?.();
}

export function clearUnloadTimer(entry: Entry): void {
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
export async function unloadLoadedThread(host: ManagerHost, threadId: ThreadId): Promise<boolean> {
  const entry = host.entries.get(threadId);
  if (entry === undefined || entry.pendingUnload) return false;
  entry.pendingUnload = true;
  clearUnloadTimer(entry);
  host.closing.add(threadId);
  try {
    await entry.thread.close();
  } catch (error) {
    host.onBackgroundError(error);
  } finally {
    host.closing.delete(threadId);
    deregister(host, entry);
  }
  host.events.emit('closed', { threadId });
  return true;
}

/** Cascade preparation: shut a loaded member down and drop it (`statusChanged notLoaded`). */
export async function prepareForRemoval(host: ManagerHost, threadId: ThreadId): Promise<void> {
  const entry = host.entries.get(threadId);
  if (entry === undefined) return;
  entry.pendingUnload = true;
  clearUnloadTimer(entry);
  host.closing.add(threadId);
  try {
    await entry.thread.close();
  } finally {
    host.closing.delete(threadId);
    deregister(host, entry);
  }
}
