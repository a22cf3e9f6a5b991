/**
 * History reads of `LocalThreadStore`: the whole history (`loadHistory`) and its turn and item
 * pages, through the live writer's file or a lookup. Read-only: a crash leaves nothing behind.
 */
import { type RolloutLine, readThreadHistory, resolveRolloutFile } from '@skein/rollout';
import { ThreadStoreError } from '../errors.js';
import { pageItems, pageTurns } from '../turns.js';
import type {
  ItemPage,
  ListItemsParams,
  ListTurnsParams,
  LoadThreadHistoryParams,
  StoredThreadHistory,
  ThreadId,
  TurnPage,
} from '../types.js';
import { isArchivedRolloutPath } from './mapping.js';
import { loadHistoryAt, readLocalThread } from './read-thread.js';
import { pathExists } from './rollout-port.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

export async function loadLocalHistory(
  host: LocalStoreHost,
  params: LoadThreadHistoryParams,
): Promise<StoredThreadHistory> {
  const { threadId } = params;
  const includeArchived = params.includeArchived ?? false;
  const entry = host.writers.get(threadId);
  if (entry !== undefined) {
    if (!includeArchived && isArchivedRolloutPath(entry.writer.path)) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
    }
    // Not materialized yet: nothing is durable.
    if (!(await pathExists(entry.writer.path))) return { threadId, items: [] };
    return loadHistoryAt(host, threadId, entry.writer.path);
  }
  const thread = await readLocalThread(host, { threadId, includeArchived, includeHistory: true });
  if (thread.history === null) {
    throw ThreadStoreError.internal(`failed to load history for thread ${threadId}`);
  }
  return thread.history;
}

export async function listLocalTurns(
  host: LocalStoreHost,
  params: ListTurnsParams,
): Promise<TurnPage> {
  const history = await historyLines(host, params.threadId, params.includeArchived ?? false);
  return pageTurns(history, {
    cursor: params.cursor,
    pageSize: params.pageSize,
    direction: params.sortDirection ?? 'asc',
    view: params.itemsView ?? 'summary',
  });
}

export async function listLocalItems(
  host: LocalStoreHost,
  params: ListItemsParams,
): Promise<ItemPage> {
  const history = await historyLines(host, params.threadId, params.includeArchived ?? false);
  return pageItems(history, {
    turnId: params.turnId,
    cursor: params.cursor,
    pageSize: params.pageSize,
    direction: params.sortDirection ?? 'asc',
  });
}

/** Lines (with timestamps) of a thread's rollout, via the live writer or a lookup. */
async function historyLines(
  host: LocalStoreHost,
  threadId: ThreadId,
  includeArchived: boolean,
): Promise<RolloutLine[]> {
  const entry = host.writers.get(threadId);
  let path: string;
  if (entry !== undefined && (await pathExists(entry.writer.path))) {
    if (!includeArchived && isArchivedRolloutPath(entry.writer.path)) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
    }
    path = entry.writer.path;
  } else {
    const thread = await readLocalThread(host, { threadId, includeArchived });
    if (thread.rolloutPath === null) {
      throw ThreadStoreError.internal(`failed to load thread history for thread ${threadId}`);
    }
    path = thread.rolloutPath;
  }
  try {
    const file = (await resolveRolloutFile(path)) ?? path;
    const read = await readThreadHistory(host.codexHome, file);
    return [...read.inheritedLines, ...read.lines];
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to load thread history ${path}: ${messageOf(error)}`,
      error,
    );
  }
}
