/**
 * `ThreadManager.forkThread`: a new thread from a snapshot of a stored history (cut at a
 * turn, snapshot policy applied), the durable fork written at once; and `spawnSubagent`, a
 * sub-agent thread of a loaded parent, started as `startThread` starts one.
 *
 * Crash safety: the source is only read; a crash leaves the new thread's rollout absent or as
 * far as the store wrote it (the store's crash note), never a changed source.
 */
import { newThreadId } from '@skein/protocol';
import { eventUserMessage } from '@skein/rollout';
import {
  type CreateThreadParams,
  LiveThread,
  type RolloutItem,
  type StoredThread,
  type ThreadId,
} from '@skein/thread-store';
import { isThreadManagerError, ThreadManagerError } from './errors.js';
import { applyForkSnapshot, truncateBeforeTurn, truncateThroughTurn } from './history.js';
import { LoadedThread } from './loaded-thread.js';
import type { ManagerHost } from './manager-host.js';
import { missingLineage, readStoredForHistory } from './resume-thread.js';
import { startManagedThread } from './start-thread.js';
import type { ForkedThread, ForkThreadOptions, SpawnSubagentOptions } from './types.js';

/**
 * Forks a thread from a snapshot of its stored history: optional turn cut (`lastTurnId` /
 * `beforeTurnId`), then the snapshot policy (default `interrupted`). The fork gets a new
 * UUIDv7 id, `forkedFromId` = source and the source's name; a durable fork is written at
 * once. Emits `threadStarted` after the result.
 */
export async function forkManagedThread(
  host: ManagerHost,
  sourceId: ThreadId,
  options: ForkThreadOptions = {},
): Promise<ForkedThread> {
  const sourceEntry = host.entries.get(sourceId);
  let source: StoredThread | null;
  let sourceHistory: RolloutItem[];
  if (sourceEntry !== undefined) {
    try {
      sourceHistory = await sourceEntry.thread.loadHistory();
    } catch (error) {
      // A paginated source written bare (its turns read before its first message): Codex
      // 0.169 forks it all the same, from nothing.
      const bare =
        sourceEntry.thread.historyMode === 'paginated' &&
        !sourceEntry.thread.hasRecordedItems &&
        sourceEntry.thread.materialized;
      if (!bare || !isThreadManagerError(error, 'NoRolloutFound')) throw error;
      sourceHistory = [];
    }
    source = await sourceEntry.thread.readStored();
  } else {
    let stored: StoredThread;
    try {
      stored = await readStoredForHistory(host, sourceId);
    } catch (error) {
      if (isThreadManagerError(error, 'NoRolloutFound')) {
        throw (await missingLineage(host, sourceId)) ?? error;
      }
      throw error;
    }
    sourceHistory = stored.history?.items ?? [];
    source = { ...stored, history: null };
  }
  // The fork writes its own session meta; the source's would confuse readers that take the last.
  let items = sourceHistory.filter(
    (item): item is Exclude<RolloutItem, { type: 'session_meta' }> => item.type !== 'session_meta',
  ) as RolloutItem[];
  if (options.lastTurnId !== undefined) items = truncateThroughTurn(items, options.lastTurnId);
  if (options.beforeTurnId !== undefined) items = truncateBeforeTurn(items, options.beforeTurnId);
  items = applyForkSnapshot(items, options.snapshot ?? { kind: 'interrupted' });

  const threadId = newThreadId(host.now());
  const ephemeral = options.ephemeral ?? false;
  const cwd = options.cwd ?? source?.cwd ?? sourceEntry?.thread.cwd ?? '';
  const modelProvider =
    options.modelProvider ??
    source?.modelProvider ??
    sourceEntry?.thread.modelProvider ??
    host.defaultModelProvider;
  const historyMode =
    source?.historyMode ?? sourceEntry?.thread.historyMode ?? host.store.defaultHistoryMode();
  // A durable fork of a paginated thread references its source's history (Codex 0.169):
  // nothing is copied; the fork's file starts where the (cut) source history ends.
  // A loaded source with no history (written bare) has nothing to reference: the fork starts
  // empty and leaves the source free to be deleted (Codex 0.169).
  const sourceWritten = sourceEntry === undefined || sourceEntry.thread.hasRecordedItems;
  const historyBase =
    historyMode === 'paginated' && !ephemeral && sourceWritten && host.store.forkBase !== undefined
      ? await host.store.forkBase(sourceId, forkCut(items, options))
      : null;
  const params: CreateThreadParams = {
    threadId,
    sessionId: threadId,
    forkedFromId: sourceId,
    parentThreadId: null,
    source: options.source ?? host.sessionSource,
    threadSource: options.threadSource ?? null,
    originator: options.originator ?? host.originator,
    ...(host.cliVersion === undefined ? {} : { cliVersion: host.cliVersion }),
    historyMode,
    historyBase,
    metadata: { cwd, modelProvider, memoryMode: options.memoryMode ?? 'enabled' },
  };
  const name = source?.name ?? sourceEntry?.thread.name ?? null;
  const model = options.model !== undefined ? options.model : (source?.model ?? null);
  const reasoningEffort =
    options.reasoningEffort !== undefined
      ? options.reasoningEffort
      : (source?.reasoningEffort ?? null);
  let live: LiveThread | null = null;
  if (!ephemeral) {
    const created = await LiveThread.create(host.store, params, host.liveThreadOptions);
    try {
      // The copied history's turns are the source's: they publish no read receipt (0.169).
      if (historyBase === null && items.length > 0) {
        await created.appendItems(items, { receipts: false });
      }
      await created.persist();
      // A fork by reference has no messages of its own yet: it shows its source's preview,
      // or, cut at a turn, the first message of the history it keeps (Codex 0.169).
      const cut = options.lastTurnId !== undefined || options.beforeTurnId !== undefined;
      const inherited = cut ? (firstUserMessageOf(items) ?? source?.preview) : source?.preview;
      const preview = historyBase !== null && inherited ? inherited : null;
      if (name !== null || preview !== null || model !== null || reasoningEffort !== null) {
        await created.updateMetadata(
          {
            ...(name !== null ? { name } : {}),
            ...(preview !== null ? { preview } : {}),
            ...(model !== null ? { model } : {}),
            ...(reasoningEffort !== null ? { reasoningEffort } : {}),
          },
          false,
        );
      }
    } catch (error) {
      // Release the writer; what was already written stays (a fork without its name).
      await created.discard().catch(host.onBackgroundError);
      throw error;
    }
    live = created;
  }
  const now = host.now();
  const thread = new LoadedThread(
    {
      threadId,
      sessionId: threadId,
      ephemeral,
      forkedFromId: sourceId,
      parentThreadId: null,
      cwd,
      modelProvider,
      model,
      reasoningEffort,
      source: params.source,
      threadSource: params.threadSource ?? null,
      originator: params.originator,
      historyMode,
      memoryMode: params.metadata.memoryMode,
      loadedAtMs: now,
      createdAtMs: now,
      name,
    },
    {
      live,
      host: host.loadedThreadHost,
      history: items,
      materialized: !ephemeral,
      settingsGiven: options.model !== undefined || options.reasoningEffort !== undefined,
    },
  );
  host.register(thread, { silent: true });
  if (options.connectionId !== undefined) host.subscribe(threadId, options.connectionId);
  host.emitAfterResult([() => host.events.emit('threadStarted', { thread })]);
  return { thread, source, history: items, sourceHistory };
}

/**
 * Spawns a sub-agent of a loaded thread: a new thread whose source is
 * `{subagent:{thread_spawn:{parent_thread_id, depth, ...}}}` (the store records the spawn
 * edge from it), sharing the parent's session id. With `forkHistory`, the parent is
 * materialized and flushed first and the child starts from its `interrupted` snapshot.
 * Emits `threadStarted` after the result, like start.
 */
export async function spawnManagedSubagent(
  host: ManagerHost,
  parentId: ThreadId,
  options: SpawnSubagentOptions = {},
): Promise<LoadedThread> {
  const parent = host.getThread(parentId);
  const parentSpawn =
    typeof parent.source === 'object' && 'subagent' in parent.source
      ? parent.source.subagent
      : undefined;
  const parentDepth =
    typeof parentSpawn === 'object' && 'thread_spawn' in parentSpawn
      ? parentSpawn.thread_spawn.depth
      : 0;
  let history: RolloutItem[] = [];
  if (options.forkHistory === true) {
    await parent.persist();
    history = applyForkSnapshot(
      (await parent.loadHistory()).filter((item) => item.type !== 'session_meta'),
      { kind: 'interrupted' },
    );
  }
  const child = await startManagedThread(host, {
    cwd: options.cwd ?? parent.cwd,
    modelProvider: parent.modelProvider,
    model: parent.model,
    reasoningEffort: parent.reasoningEffort,
    parentThreadId: parentId,
    sessionId: parent.sessionId,
    threadSource: 'subagent',
    source: {
      subagent: {
        thread_spawn: {
          parent_thread_id: parentId,
          depth: parentDepth + 1,
          agent_path: options.agentPath ?? null,
          agent_nickname: options.agentNickname ?? null,
          agent_role: options.agentRole ?? null,
        },
      },
    },
    ...(options.connectionId === undefined ? {} : { connectionId: options.connectionId }),
  });
  if (history.length > 0) await child.recordItems(history);
  return child;
}

/**
 * Where a paginated fork's inherited history ends: after the last turn the cut keeps (the
 * whole source when nothing is cut).
 */
function forkCut(
  kept: readonly RolloutItem[],
  options: Pick<ForkThreadOptions, 'lastTurnId' | 'beforeTurnId'>,
): { afterTurnId?: string } {
  if (options.lastTurnId !== undefined) return { afterTurnId: options.lastTurnId };
  if (options.beforeTurnId === undefined) return {};
  for (let index = kept.length - 1; index >= 0; index -= 1) {
    const item = kept[index];
    if (item?.type !== 'event_msg') continue;
    const payload = item.payload as { type?: unknown; turn_id?: unknown };
    if (payload.type === 'task_complete' && typeof payload.turn_id === 'string') {
      return { afterTurnId: payload.turn_id };
    }
  }
  // Nothing of the source kept: a reference fork cannot start before the first turn.
  throw ThreadManagerError.invalidRequest(
    `cannot fork before turn ${options.beforeTurnId}: no completed turn precedes it`,
  );
}

/** The text of the first user message among rollout items (its list preview), if any. */
function firstUserMessageOf(items: readonly RolloutItem[]): string | null {
  for (const item of items) {
    if (item.type !== 'event_msg') continue;
    const text = eventUserMessage(item.payload as Parameters<typeof eventUserMessage>[0]);
    if (text?.preview) return text.preview;
  }
  return null;
}
