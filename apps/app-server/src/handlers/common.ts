/** Helpers shared by the thread handlers: id parsing, store reads, and Thread assembly. */

import {
  buildThread,
  storedThreadFacts,
  type ThreadFacts,
  tryParseThreadId,
  type WireThread,
  type WireTurn,
  wireSessionSource,
} from '@skein/app-server-protocol';
import { type StoredThread, ThreadStoreError } from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { HandlerContext, LiveThreadView } from './context.js';

/** `invalid thread id: ...` (read, delete, name, metadata, turns) or `invalid session id: ...`. */
export function parseThreadIdParam(value: string, noun: 'thread' | 'session' = 'thread'): string {
  const parsed = tryParseThreadId(value);
  if (!parsed.ok) throw RpcError.invalidRequest(`invalid ${noun} id: ${parsed.error}`);
  return parsed.id;
}

/** The stored thread, or null when the store does not know it. */
export async function readStored(
  ctx: HandlerContext,
  threadId: string,
  options: { includeArchived: boolean; includeHistory: boolean },
): Promise<StoredThread | null> {
  try {
    return await ctx.store.readThread({ threadId: threadId as never, ...options });
  } catch (error) {
    if (error instanceof ThreadStoreError && error.code === 'ThreadNotFound') return null;
    throw error;
  }
}

function environmentsOf(live: LiveThreadView): ThreadFacts['environments'] {
  return [{ environmentId: 'local', cwd: live.cwd, runtimeWorkspaceRoots: [live.cwd] }];
}

/** Facts of a loaded thread that the store does not hold yet: times are "now". */
export function liveOnlyFacts(
  ctx: HandlerContext,
  live: LiveThreadView,
  nowMs = Date.now(),
): ThreadFacts {
  return {
    id: live.threadId,
    sessionId: live.sessionId,
    forkedFromId: live.forkedFromId,
    parentThreadId: live.parentThreadId,
    preview: '',
    ephemeral: live.ephemeral,
    historyMode: live.historyMode,
    modelProvider: live.modelProvider,
    model: live.model,
    reasoningEffort: live.reasoningEffort,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    recencyAtMs: nowMs,
    path: live.rolloutPath,
    cwd: live.cwd,
    cliVersion: ctx.cliVersion,
    originator: live.originator === '' ? null : live.originator,
    source: wireSessionSource(live.source),
    threadSource: live.threadSource,
    agentNickname: null,
    agentRole: null,
    gitInfo: null,
    name: live.name,
    environments: environmentsOf(live),
    canAcceptDirectInput: true,
  };
}

function createdHere(live: LiveThreadView): boolean {
  return live.createdAtMs === live.loadedAtMs;
}

/** Stored facts, overlaid with what only the live runtime knows when the thread is loaded. */
export function threadFacts(
  ctx: HandlerContext,
  stored: StoredThread | null,
  live: LiveThreadView | undefined,
): ThreadFacts {
  if (stored === null) {
    if (live === undefined) throw new Error('threadFacts needs a stored or a live thread');
    return liveOnlyFacts(ctx, live);
  }
  const facts = storedThreadFacts(stored);
  if (live === undefined) return facts;
  return {
    ...facts,
    sessionId: live.sessionId,
    ephemeral: live.ephemeral,
    model: live.model ?? facts.model,
    reasoningEffort: live.reasoningEffort ?? facts.reasoningEffort,
    name: facts.name ?? live.name,
    // The live originator is the truth only for threads this process created (start/fork);
    // a resumed thread's runtime carries the server's default, not the recorded one.
    originator:
      facts.originator ?? (createdHere(live) && live.originator !== '' ? live.originator : null),
    environments: environmentsOf(live),
    canAcceptDirectInput: true,
  };
}

export function wireThread(
  ctx: HandlerContext,
  stored: StoredThread | null,
  live: LiveThreadView | undefined,
  turns: WireTurn[] = [],
): WireThread {
  const facts = threadFacts(ctx, stored, live);
  return buildThread(facts, ctx.statusOf(facts.id), turns);
}

export const DEPRECATION_INCLUDE_TURNS =
  'Full-history hydration is deprecated for paginated threads; omit `includeTurns` or set it to `false`, then page with `thread/turns/list` and `thread/items/list`.';
export const DEPRECATION_EXCLUDE_TURNS =
  'Full-history hydration is deprecated for paginated threads; use `excludeTurns: true`, then page with `thread/turns/list` and `thread/items/list`.';
