/** `thread/read` (spec §2.4) and `thread/turns/list` (§2.13). */

import {
  buildTurns,
  InvalidTurnsCursor,
  pageTurns,
  type ThreadReadParams,
  type ThreadTurnsListParams,
  threadReadParams,
  threadTurnsListParams,
} from '@skein/app-server-protocol';
import type { ThreadId } from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { MethodHandler } from '../server/app-server.js';
import { DEPRECATION_INCLUDE_TURNS, parseThreadIdParam, wireThread } from './common.js';
import type { HandlerContext } from './context.js';
import { readView, readViewWithHistory } from './history.js';
import { clampLimit } from './list.js';

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
        return { thread: wireThread(ctx, view.stored, view.loaded ?? undefined), readState: null };
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
      return {
        thread: wireThread(
          ctx,
          view.stored,
          live,
          history.turns.map((t) => t.turn),
        ),
        readState: null,
      };
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
