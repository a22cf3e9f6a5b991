/**
 * `thread/archive` (§2.7), `thread/unarchive` (§2.8), `thread/delete` (§2.9),
 * `thread/unsubscribe` (§2.10), `thread/name/set` (§2.11), `thread/metadata/update` (§2.12),
 * `thread/inject_items` (§2.15). The cascade notifications come from the manager's events.
 */

import {
  type ThreadInjectItemsParams,
  type ThreadMetadataUpdateParams,
  type ThreadReadStateUpdateParams,
  type ThreadSetNameParams,
  threadArchiveParams,
  threadDeleteParams,
  threadInjectItemsParams,
  threadMetadataUpdateParams,
  threadReadStateUpdateParams,
  threadSetNameParams,
  threadUnarchiveParams,
  threadUnsubscribeParams,
} from '@skein/app-server-protocol';
import { isThreadManagerError } from '@skein/thread-manager';
import {
  type GitInfoPatch,
  type RolloutItem,
  type StoredThread,
  type ThreadId,
  ThreadStoreError,
} from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { MethodHandler } from '../server/app-server.js';
import { parseThreadIdParam, readStored, wireThread } from './common.js';
import type { HandlerContext } from './context.js';

type IdParams = { threadId: string };

export function archiveHandler(ctx: HandlerContext): MethodHandler<IdParams> {
  return {
    schema: threadArchiveParams,
    async handle({ params }) {
      await ctx.manager.archiveThread(parseThreadIdParam(params.threadId, 'session') as ThreadId);
      return {};
    },
  };
}

export function unarchiveHandler(ctx: HandlerContext): MethodHandler<IdParams> {
  return {
    schema: threadUnarchiveParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId, 'session') as ThreadId;
      const { thread } = await ctx.manager.unarchiveThread(threadId);
      return { thread: wireThread(ctx, thread, ctx.manager.lookupThread(threadId)) };
    },
  };
}

export function deleteHandler(ctx: HandlerContext): MethodHandler<IdParams> {
  return {
    schema: threadDeleteParams,
    async handle({ params }) {
      await ctx.manager.deleteThread(parseThreadIdParam(params.threadId) as ThreadId);
      return {};
    },
  };
}

export function unsubscribeHandler(ctx: HandlerContext): MethodHandler<IdParams> {
  return {
    schema: threadUnsubscribeParams,
    async handle({ params, connection }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      return { status: ctx.manager.unsubscribe(threadId, connection.id) };
    },
  };
}

export function setNameHandler(ctx: HandlerContext): MethodHandler<ThreadSetNameParams> {
  return {
    schema: threadSetNameParams,
    async handle({ params }) {
      await ctx.manager.setThreadName(parseThreadIdParam(params.threadId) as ThreadId, params.name);
      return {};
    },
  };
}

export function metadataUpdateHandler(
  ctx: HandlerContext,
): MethodHandler<ThreadMetadataUpdateParams> {
  return {
    schema: threadMetadataUpdateParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      // Skein keeps no projects or daybreak flag: nothing stands behind those fields.
      if (params.projectId !== undefined)
        throw RpcError.unsupported('projects is not supported yet');
      if (params.daybreakEnabled !== undefined && params.gitInfo === undefined) {
        throw RpcError.unsupported('daybreakEnabled is not supported yet');
      }
      const git = params.gitInfo;
      const patch: GitInfoPatch | undefined =
        git === undefined
          ? undefined
          : {
              ...(git.sha === undefined ? {} : { sha: git.sha }),
              ...(git.branch === undefined ? {} : { branch: git.branch }),
              ...(git.originUrl === undefined ? {} : { originUrl: git.originUrl }),
            };
      let stored: StoredThread;
      try {
        stored = await ctx.manager.updateThreadGitInfo(threadId, patch);
      } catch (error) {
        // 0.169.0 answers an unknown id with `no rollout found`, as name/set does.
        if (
          isThreadManagerError(error, 'ThreadNotFound') ||
          (error instanceof ThreadStoreError && error.detail.startsWith('thread not found:'))
        ) {
          throw RpcError.invalidRequest(`no rollout found for thread id ${threadId}`);
        }
        throw error;
      }
      // 0.169.0 answers the stored thread with the live environment, but without the live
      // thread's `canAcceptDirectInput`.
      const thread = wireThread(ctx, stored, ctx.manager.lookupThread(threadId));
      return { thread: { ...thread, canAcceptDirectInput: null } };
    },
  };
}

/** The first problem serde would report turning `value` into a Responses API item. */
function responseItemProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `invalid type: ${Array.isArray(value) ? 'sequence' : typeof value}, expected internally tagged enum ResponseItem`;
  }
  const type = (value as Record<string, unknown>).type;
  if (type === undefined) return 'missing field `type`';
  if (typeof type !== 'string') return 'invalid type: expected a string for field `type`';
  return null;
}

export function injectItemsHandler(ctx: HandlerContext): MethodHandler<ThreadInjectItemsParams> {
  return {
    schema: threadInjectItemsParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      const thread = ctx.manager.getThread(threadId);
      if (params.items.length === 0) throw RpcError.invalidRequest('items must not be empty');
      params.items.forEach((item, index) => {
        const problem = responseItemProblem(item);
        if (problem !== null)
          throw RpcError.invalidRequest(`items[${index}] is not a valid response item: ${problem}`);
      });
      const items = params.items.map(
        (payload) => ({ type: 'response_item', payload }) as RolloutItem,
      );
      await thread.recordItems(items);
      return {};
    },
  };
}

/**
 * `thread/readState/update` (experimental): marks a thread read or unread in Codex 0.169's
 * `thread_read_receipts`, if its receipt is still at `expectedRevision`. A stale revision is
 * answered as 0.169.0 answers it: -32600 `read state changed` with the current state in
 * `data`. A home whose DB keeps no receipts (0.131's schema) refuses (-32601).
 */
export function readStateUpdateHandler(
  ctx: HandlerContext,
): MethodHandler<ThreadReadStateUpdateParams> {
  return {
    schema: threadReadStateUpdateParams,
    async handle({ params }) {
      const threadId = parseThreadIdParam(params.threadId) as ThreadId;
      const stored = await readStored(ctx, threadId, {
        includeArchived: true,
        includeHistory: false,
      }).catch((error: unknown) => {
        // The local store's word for an unknown thread.
        if (
          error instanceof ThreadStoreError &&
          error.code === 'InvalidRequest' &&
          error.detail.startsWith('no rollout found for thread id')
        ) {
          return null;
        }
        throw error;
      });
      if (stored === null && ctx.loaded(threadId) === undefined) {
        throw RpcError.invalidRequest(`thread not loaded: ${threadId}`);
      }
      try {
        const readState = await ctx.manager.updateReadState({
          threadId,
          operation: params.operation.type,
          expectedRevision: params.expectedRevision,
        });
        return { readState };
      } catch (error) {
        if (error instanceof ThreadStoreError && error.code === 'Conflict') {
          const current = (await ctx.manager.readStates([threadId])).get(threadId);
          throw new RpcError(-32600, 'read state changed', {
            reason: 'readStateConflict',
            readState: current ?? null,
          });
        }
        throw error;
      }
    },
  };
}
