/**
 * `ThreadManager.startThread`: a new thread (durable: a LiveThread over the store's writer;
 * ephemeral: in memory only), registered silently and subscribed for its caller, then
 * `threadStarted` after the result.
 *
 * Crash safety: the manager keeps nothing durable itself; a durable thread writes nothing
 * until its first persist or flush, so a crash right after start leaves no file and no row.
 */
import { newThreadId } from '@skein/protocol';
import { type CreateThreadParams, LiveThread } from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import { LoadedThread } from './loaded-thread.js';
import type { ManagerHost } from './manager-host.js';
import type { StartThreadOptions } from './types.js';

/**
 * Starts a new thread. A durable thread gets a precomputed rollout path but nothing is
 * written until the first persist or a flush after history exists; an ephemeral thread
 * never reaches the store. Registers silently (status `idle`, no `statusChanged`), then
 * emits `threadStarted` after the result.
 */
export async function startManagedThread(
  host: ManagerHost,
  options: StartThreadOptions,
): Promise<LoadedThread> {
  const threadId = options.threadId ?? newThreadId(host.now());
  if (host.entries.has(threadId) || host.closing.has(threadId)) {
    throw ThreadManagerError.threadAlreadyRunning(threadId);
  }
  const parentSessionId =
    options.parentThreadId == null
      ? undefined
      : host.entries.get(options.parentThreadId)?.thread.sessionId;
  const ephemeral = options.ephemeral ?? false;
  const params: CreateThreadParams = {
    threadId,
    sessionId: options.sessionId ?? parentSessionId ?? threadId,
    forkedFromId: null,
    parentThreadId: options.parentThreadId ?? null,
    source: options.source ?? host.sessionSource,
    threadSource: options.threadSource ?? null,
    originator: options.originator ?? host.originator,
    ...(host.cliVersion === undefined ? {} : { cliVersion: host.cliVersion }),
    baseInstructions: options.baseInstructions == null ? null : { text: options.baseInstructions },
    dynamicTools: options.dynamicTools ?? [],
    historyMode: options.historyMode ?? host.store.defaultHistoryMode(),
    metadata: {
      cwd: options.cwd,
      modelProvider: options.modelProvider ?? host.defaultModelProvider,
      memoryMode: options.memoryMode ?? 'enabled',
    },
  };
  const live = ephemeral
    ? null
    : await LiveThread.create(host.store, params, host.liveThreadOptions);
  const now = host.now();
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
    { live, host: host.loadedThreadHost, history: [], materialized: false },
  );
  host.register(thread, { silent: true });
  if (options.connectionId !== undefined) host.subscribe(threadId, options.connectionId);
  host.emitAfterResult([() => host.events.emit('threadStarted', { thread })]);
  return thread;
}
