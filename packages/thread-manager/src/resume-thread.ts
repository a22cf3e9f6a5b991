/**
 * `ThreadManager.resumeThread`: a loaded thread as is (or reloaded for another cwd or
 * provider), else a cold resume shared by concurrent callers: read the stored history,
 * reopen the writer, register, subscribe. Also the lineage check and the history read that
 * fork and read share.
 *
 * Crash safety: resuming writes nothing of its own (the store's resume repairs, see its
 * crash note); a crash leaves the thread as stored, and resuming again is the recovery.
 */
import { newThreadId } from '@skein/protocol';
import {
  LiveThread,
  type RolloutItem,
  type SessionSource,
  type StoredThread,
  type ThreadId,
} from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import { LoadedThread } from './loaded-thread.js';
import type { Entry, ManagerHost } from './manager-host.js';
import { isActive } from './status.js';
import { isMissingThread } from './store-errors.js';
import type { ResumedThread, ResumeThreadOptions } from './types.js';

/**
 * Resumes a thread from its stored history. An already-loaded thread is returned as is (its
 * stored history must exist: a pristine thread fails `no rollout found`), unless nobody is
 * subscribed, it is idle and the resume asks for another cwd or provider: then it is reloaded
 * with those (`statusChanged notLoaded`, then `idle`). A cold resume reopens the writer,
 * registers the thread and emits `statusChanged idle` before returning.
 */
export async function resumeManagedThread(
  host: ManagerHost,
  threadId: ThreadId,
  options: ResumeThreadOptions = {},
): Promise<ResumedThread> {
  const closing = (): boolean =>
    host.closing.has(threadId) || host.entries.get(threadId)?.pendingUnload === true;
  if (closing()) throw ThreadManagerError.threadClosing(threadId, 'resume');
  const loaded = host.entries.get(threadId);
  if (loaded !== undefined && !loaded.thread.ephemeral) await loaded.thread.flush();
  // The flush awaited: the thread may be unloading (or gone, then it resumes cold) now.
  if (closing()) throw ThreadManagerError.threadClosing(threadId, 'resume');
  const entry = host.entries.get(threadId);
  if (entry !== undefined && wantsColdReload(entry, options)) {
    // Idle, unsubscribed and asked for other settings: reload it with them (Codex does too).
    await host.prepareForRemoval(threadId);
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
    if (options.connectionId !== undefined) host.subscribe(threadId, options.connectionId);
    return { thread: entry.thread, stored, history, alreadyLoaded: true };
  }
  const inflight = host.resuming.get(threadId);
  if (inflight !== undefined) {
    const resumed = await inflight;
    if (options.connectionId !== undefined) host.subscribe(threadId, options.connectionId);
    return { ...resumed, alreadyLoaded: true };
  }
  const resume = coldResume(host, threadId, options);
  host.resuming.set(threadId, resume);
  try {
    const resumed = await resume;
    if (options.connectionId !== undefined) host.subscribe(threadId, options.connectionId);
    return resumed;
  } finally {
    host.resuming.delete(threadId);
  }
}

/** A loaded thread nobody uses, resumed with a different cwd or provider. */
function wantsColdReload(entry: Entry, options: ResumeThreadOptions): boolean {
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

export async function coldResume(
  host: ManagerHost,
  threadId: ThreadId,
  options: ResumeThreadOptions,
): Promise<ResumedThread> {
  const stored = await readStoredForHistory(host, threadId);
  const history = stored.history?.items ?? [];
  const live = await LiveThread.resume(
    host.store,
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
    host.liveThreadOptions,
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
      originator: stored.originator ?? host.originator,
      historyMode: stored.historyMode,
      memoryMode: options.memoryMode ?? 'enabled',
      loadedAtMs: host.now(),
      createdAtMs: stored.createdAtMs,
      name: stored.name,
    },
    { live, host: host.loadedThreadHost, history, materialized: true },
  );
  if (host.entries.has(threadId)) {
    // Started under this id meanwhile: keep the registered runtime, release ours.
    await live.discard().catch(host.onBackgroundError);
    throw ThreadManagerError.threadAlreadyRunning(threadId);
  }
  host.register(thread, { silent: false });
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
export async function missingLineage(
  host: ManagerHost,
  threadId: ThreadId,
): Promise<ThreadManagerError | null> {
  try {
    const stored = await host.store.readThread({ threadId, includeArchived: true });
    if (stored.historyMode !== 'paginated') return null;
  } catch {
    return null;
  }
  return ThreadManagerError.invalidRequest(
    `invalid paginated history lineage for ${threadId}: missing source rollout`,
    threadId,
  );
}

export async function readStoredForHistory(
  host: ManagerHost,
  threadId: ThreadId,
): Promise<StoredThread> {
  let stored: StoredThread;
  try {
    stored = await host.store.readThread({
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
