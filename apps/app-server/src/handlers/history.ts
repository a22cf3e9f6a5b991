/**
 * Reading a thread (and its history) through the manager, with two adapters to the layers
 * below:
 * - the local store reports an unknown thread as `InvalidRequest("no rollout found ...")`,
 *   which `thread/read` and `thread/turns/list` must answer as `thread not loaded: <id>`;
 * - the stores refuse to load 0.169 paginated histories (`Unsupported(paginated_threads)`);
 *   for read-only turn building the app-server then reads the rollout file itself, which
 *   also gives the real line ordinals the paginated cursors anchor on.
 */

import type { HistoryItem } from '@skein/app-server-protocol';
import { readThreadHistory } from '@skein/rollout';
import type { HistoryPurpose, ThreadView } from '@skein/thread-manager';
import { type ThreadId, ThreadStoreError } from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { HandlerContext } from './context.js';

function isUnknownThread(error: unknown): boolean {
  return (
    error instanceof ThreadStoreError &&
    (error.code === 'ThreadNotFound' ||
      (error.code === 'InvalidRequest' &&
        error.detail.startsWith('no rollout found for thread id')))
  );
}

function isPaginatedRefusal(error: unknown): boolean {
  return (
    error instanceof ThreadStoreError &&
    error.code === 'Unsupported' &&
    error.operation === 'paginated_threads'
  );
}

/** `manager.readThread`, with an unknown thread reported as `thread not loaded: <id>`. */
export async function readView(
  ctx: HandlerContext,
  threadId: ThreadId,
  options: { includeHistory?: boolean; historyPurpose?: HistoryPurpose } = {},
): Promise<ThreadView> {
  try {
    return await ctx.manager.readThread(threadId, options);
  } catch (error) {
    if (isUnknownThread(error)) throw RpcError.invalidRequest(`thread not loaded: ${threadId}`);
    throw error;
  }
}

export interface ViewWithHistory {
  view: ThreadView;
  items: HistoryItem[];
}

/** The thread and its full history (with line ordinals when read from a paginated file). */
export async function readViewWithHistory(
  ctx: HandlerContext,
  threadId: ThreadId,
  purpose: HistoryPurpose,
): Promise<ViewWithHistory> {
  try {
    const view = await readView(ctx, threadId, { includeHistory: true, historyPurpose: purpose });
    return { view, items: (view.history ?? []) as HistoryItem[] };
  } catch (error) {
    if (!isPaginatedRefusal(error)) throw error;
  }
  const view = await readView(ctx, threadId);
  const path = view.stored?.rolloutPath ?? view.loaded?.rolloutPath ?? null;
  if (path === null) throw RpcError.unsupported('list_turns is not supported yet');
  // A 0.169 fork by reference inherits its base thread's lines before its own.
  const history = await readThreadHistory(ctx.codexHome, path);
  return { view, items: [...history.inheritedLines, ...history.lines] as HistoryItem[] };
}
