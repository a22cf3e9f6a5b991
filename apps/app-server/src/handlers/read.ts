/** `thread/read` (spec §2.4) and `thread/turns/list` (§2.13). */

import type { WireThread, WireThreadItem } from '@skein/app-server-protocol';
import {
  buildTurns,
  type HistoryItem,
  InvalidTurnsCursor,
  pageTurns,
  type ThreadItemsListParams,
  type ThreadReadParams,
  type ThreadTurnsListParams,
  threadItemsListParams,
  threadReadParams,
  threadTurnsListParams,
} from '@skein/app-server-protocol';
import { isThreadManagerError, type ThreadView } from '@skein/thread-manager';
import type { ThreadId } from '@skein/thread-store';
import { INTERNAL_ERROR, RpcError } from '../errors.js';
import type { MethodHandler } from '../server/app-server.js';
import { DEPRECATION_INCLUDE_TURNS, parseThreadIdParam, wireThread } from './common.js';
import type { HandlerContext } from './context.js';
import { readView, readViewWithHistory } from './history.js';
import { clampLimit } from './list.js';
import { readStateOf } from './read-state.js';

/**
 * A read answers the stored thread; a thread only loaded in memory (never written) is answered
 * from its live snapshot, which 0.169.0 builds without the fork source and the name.
 */
async function readAnswer(ctx: HandlerContext, view: ThreadView, thread: WireThread) {
  if (view.stored !== null) return { thread, readState: await readStateOf(ctx, view.stored) };
  return { thread: { ...thread, forkedFromId: null, name: null }, readState: null };
}

export function isRunning(ctx: HandlerContext, threadId: string): boolean {
  return ctx.statusOf(threadId).type === 'active';
}

export function readHandler(ctx: HandlerContext): MethodHandler<ThreadReadParams> {
  return {
    schema: threadReadParams,
    async handle({ params, connection }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      const includeTurns = params.includeTurns === true;
      if (!includeTurns) {
        const view = await readView(ctx, threadId);
        return readAnswer(ctx, view, wireThread(ctx, view.stored, view.loaded ?? undefined));
      }
      const { view, items } = await readViewWithHistory(ctx, threadId, 'includeTurns');
      const live = view.loaded ?? undefined;
      const history = buildTurns(items, isRunning(ctx, threadId));
      const historyMode = view.stored?.historyMode ?? live?.historyMode;
      if (historyMode === 'paginated') {
        connection.notify('deprecationNotice', {
          summary: DEPRECATION_INCLUDE_TURNS,
          details: null,
        });
      }
      return readAnswer(
        ctx,
        view,
        wireThread(
          ctx,
          view.stored,
          live,
          history.turns.map((t) => t.turn),
        ),
      );
    },
  };
}

export function turnsListHandler(ctx: HandlerContext): MethodHandler<ThreadTurnsListParams> {
  return {
    schema: threadTurnsListParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      const { items } = await readViewWithHistory(ctx, threadId, 'thread/turns/list');
      const history = buildTurns(items, isRunning(ctx, threadId));
      try {
        return pageTurns(threadId, history, {
          cursor: params.cursor,
          limit: clampLimit(params.limit),
          direction: params.sortDirection ?? 'desc',
          view: params.itemsView ?? 'summary',
        });
      } catch (error) {
        if (error instanceof InvalidTurnsCursor) throw RpcError.invalidRequest(error.message);
        throw error;
      }
    },
  };
}

const ITEMS_UNSUPPORTED = 'thread/items/list is not supported yet';
const LINEAGE_MISSING = 'invalid paginated history lineage for ';
const ITEMS_SCOPE = 'itemsByCreatedAtOrdinal';

interface ItemEntry {
  turnId: string;
  item: WireThreadItem;
  ordinal: number;
}

function itemsCursor(threadId: string, ordinal: number, includeAnchor: boolean): string {
  return JSON.stringify({
    requestedThreadId: threadId,
    rolloutOrdinal: ordinal,
    includeAnchor,
    scope: { kind: ITEMS_SCOPE },
  });
}

function parseItemsCursor(
  text: string,
  threadId: string,
): { ordinal: number; includeAnchor: boolean } {
  const invalid = () => RpcError.invalidRequest(`invalid cursor: ${text}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid();
  }
  const cursor = parsed as {
    requestedThreadId?: unknown;
    rolloutOrdinal?: unknown;
    includeAnchor?: unknown;
    scope?: { kind?: unknown } | null;
  } | null;
  if (
    typeof cursor !== 'object' ||
    cursor === null ||
    cursor.requestedThreadId !== threadId ||
    typeof cursor.rolloutOrdinal !== 'number' ||
    typeof cursor.includeAnchor !== 'boolean' ||
    cursor.scope?.kind !== ITEMS_SCOPE
  ) {
    throw invalid();
  }
  return { ordinal: cursor.rolloutOrdinal, includeAnchor: cursor.includeAnchor };
}

/**
 * `thread/items/list` (spec §2.13 companion): the items of a paginated thread in the order
 * they were recorded, paged by the ordinal of the line that recorded them. 0.169.0 serves
 * paginated histories only: a legacy, pristine, ephemeral or unknown thread is
 * `-32601 thread/items/list is not supported yet`; an unknown `turnId` is an empty page.
 */
export function itemsListHandler(ctx: HandlerContext): MethodHandler<ThreadItemsListParams> {
  return {
    schema: threadItemsListParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      let items: HistoryItem[];
      let storedMode: string | undefined;
      try {
        const read = await readViewWithHistory(ctx, threadId, 'thread/turns/list');
        items = read.items;
        storedMode = read.view.stored?.historyMode;
      } catch (error) {
        if (error instanceof RpcError && error.code === INTERNAL_ERROR) throw error;
        // A paginated thread whose file is missing is reported as such, as turns/list does.
        if (isThreadManagerError(error) && error.message.startsWith(LINEAGE_MISSING)) throw error;
        if (error instanceof RpcError || isThreadManagerError(error)) {
          throw RpcError.unsupported(ITEMS_UNSUPPORTED);
        }
        throw error;
      }
      const history = buildTurns(items, isRunning(ctx, threadId));
      // A paginated thread with nothing recorded yet pages as empty.
      if (!history.paginated && storedMode !== 'paginated') {
        throw RpcError.unsupported(ITEMS_UNSUPPORTED);
      }
      const cursor = params.cursor === undefined ? null : parseItemsCursor(params.cursor, threadId);
      const direction = params.sortDirection ?? 'asc';
      const sign = direction === 'asc' ? 1 : -1;
      let entries: ItemEntry[] = history.turns.flatMap((built) =>
        built.turn.items.map((item, index) => ({
          turnId: built.turn.id,
          item,
          ordinal: built.itemOrdinals[index] ?? 0,
        })),
      );
      if (params.turnId !== undefined) entries = entries.filter((e) => e.turnId === params.turnId);
      entries.sort((a, b) => sign * (a.ordinal - b.ordinal));
      if (cursor !== null) {
        entries = entries.filter((e) => {
          const delta = sign * (e.ordinal - cursor.ordinal);
          return delta > 0 || (delta === 0 && cursor.includeAnchor);
        });
      }
      const limit = clampLimit(params.limit);
      const page = entries.slice(0, limit);
      const first = page[0];
      const last = page.at(-1);
      return {
        data: page.map((e) => ({
          turnId: e.turnId,
          item: e.item,
          startedAtMs: e.item.startedAtMs,
          completedAtMs: e.item.completedAtMs,
        })),
        nextCursor:
          entries.length > page.length && last !== undefined
            ? itemsCursor(threadId, last.ordinal, false)
            : null,
        backwardsCursor: first === undefined ? null : itemsCursor(threadId, first.ordinal, true),
      };
    },
  };
}
