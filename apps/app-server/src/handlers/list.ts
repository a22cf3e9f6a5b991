/** `thread/list` (spec §2.5) and `thread/loaded/list` (§2.6). */
import { resolve } from 'node:path';
import {
  buildThread,
  sourceMatchesKind,
  storedThreadFacts,
  THREAD_SOURCE_KINDS,
  type ThreadListParams,
  type ThreadLoadedListParams,
  type ThreadSourceKind,
  threadListParams,
  threadLoadedListParams,
  tryParseThreadId,
  type WireThread,
} from '@skein/app-server-protocol';
import type {
  ListThreadsParams,
  SessionSource,
  StoredThread,
  ThreadSortKey,
} from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { MethodHandler } from '../server/app-server.js';
import type { HandlerContext } from './context.js';
import { readStatesOf, type WireReadState } from './read-state.js';

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const MAX_EXCLUDED = 100;
/** Upper bound on store round-trips for one page (post-filters may reject many rows). */
const MAX_STORE_PAGES = 1000;

export function clampLimit(limit: number | undefined, fallback = DEFAULT_LIMIT): number {
  return Math.min(MAX_LIMIT, Math.max(1, limit ?? fallback));
}

const SORT_KEYS: Record<string, ThreadSortKey> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  recency_at: 'recencyAt',
};

/**
 * The store's `allowedSources` for the requested kinds, as 0.169.0 computes them: the
 * interactive kinds go to the store; any other kind makes the store list every source (no
 * source filter: its listing may then answer from the DB alone) and the rows are filtered here.
 * Every kind at once is no filter at all.
 */
function storeSources(kinds: readonly ThreadSourceKind[]): {
  allowed: SessionSource[];
  postFilter: boolean;
} {
  if (THREAD_SOURCE_KINDS.every((kind) => kinds.includes(kind))) {
    return { allowed: [], postFilter: false };
  }
  if (kinds.some((kind) => kind !== 'cli' && kind !== 'vscode')) {
    return { allowed: [], postFilter: true };
  }
  return { allowed: kinds.map((kind) => (kind === 'cli' ? 'cli' : 'vscode')), postFilter: false };
}

/** `invalid parent thread id: ...` / `invalid ancestor thread id: ...`, as 0.169.0 words them. */
function parseIdParam(noun: 'parent' | 'ancestor', value: string): string {
  const parsed = tryParseThreadId(value);
  if (!parsed.ok) throw RpcError.invalidRequest(`invalid ${noun} thread id: ${parsed.error}`);
  return parsed.id;
}

function sortTimeMs(thread: StoredThread, key: ThreadSortKey): number {
  if (key === 'updatedAt') return thread.updatedAtMs;
  if (key === 'recencyAt') return thread.recencyAtMs || thread.updatedAtMs;
  return thread.createdAtMs;
}

export interface ListedPage {
  data: WireThread[];
  readStates: Record<string, WireReadState>;
  nextCursor: string | null;
  backwardsCursor: string | null;
}

export async function listThreads(
  ctx: HandlerContext,
  params: ThreadListParams,
): Promise<ListedPage> {
  if (params.originators !== undefined && params.originators.length > 0) {
    throw RpcError.invalidParams('originator filtering is not supported by the local app-server');
  }
  // Skein keeps no projects: every project id names none (0.169.0's words for a missing one).
  if (params.projectId !== undefined && params.projectId !== null) {
    if (params.projectId === '') throw RpcError.invalidParams('projectId must not be empty');
    throw RpcError.invalidParams(`project not found: ${params.projectId}`);
  }
  if (
    params.includeAttachedThreads === true &&
    (params.searchTerm === undefined || params.searchTerm.trim() === '')
  ) {
    throw RpcError.invalidRequest('includeAttachedThreads requires a non-empty searchTerm');
  }
  const excluded = new Set<string>();
  if (params.excludedThreadIds !== undefined) {
    if (params.excludedThreadIds.length > MAX_EXCLUDED) {
      throw RpcError.invalidParams(`excludedThreadIds accepts at most ${MAX_EXCLUDED} entries`);
    }
    for (const id of params.excludedThreadIds) {
      const parsed = tryParseThreadId(id);
      if (!parsed.ok) throw RpcError.invalidParams(`invalid excluded thread id: ${parsed.error}`);
      excluded.add(parsed.id);
    }
  }
  if (params.sortKey === 'section_position' && params.sectionId === undefined) {
    throw RpcError.invalidRequest('section-position sorting requires a section filter');
  }
  if (params.parentThreadId !== undefined && params.ancestorThreadId !== undefined) {
    throw RpcError.invalidRequest('parentThreadId and ancestorThreadId are mutually exclusive');
  }
  const empty: ListedPage = { data: [], readStates: {}, nextCursor: null, backwardsCursor: null };
  // Skein keeps no sections or attachments: every thread is unsectioned, so a filter on one
  // of them matches nothing.
  if (typeof params.sectionId === 'string') return empty;
  if (params.attachedToThreadId !== undefined) return empty;

  const limit = clampLimit(params.limit);
  const sortKey = SORT_KEYS[params.sortKey ?? 'created_at'] ?? 'createdAt';
  const sortDirection = params.sortDirection ?? 'desc';
  const kinds: ThreadSourceKind[] =
    params.sourceKinds === undefined || params.sourceKinds.length === 0
      ? ['cli', 'vscode']
      : params.sourceKinds;
  const sources = storeSources(kinds);
  const relationFilter =
    params.parentThreadId !== undefined
      ? ({
          kind: 'directChildrenOf',
          threadId: parseIdParam('parent', params.parentThreadId),
        } as const)
      : params.ancestorThreadId !== undefined
        ? ({
            kind: 'descendantsOf',
            threadId: parseIdParam('ancestor', params.ancestorThreadId),
          } as const)
        : undefined;
  const modelProviders =
    params.modelProviders !== undefined
      ? params.modelProviders
      : relationFilter !== undefined
        ? []
        : [ctx.defaultModelProvider];
  const cwdFilters =
    params.cwd === undefined
      ? undefined
      : (typeof params.cwd === 'string' ? [params.cwd] : params.cwd).map((entry) =>
          resolve(ctx.cwd, entry),
        );

  const base: Omit<ListThreadsParams, 'pageSize' | 'cursor'> = {
    sortKey,
    sortDirection,
    modelProviders,
    archived: params.archived === true,
    // A section filter (`sectionId: null` = unsectioned, which every Skein thread is) makes
    // 0.169.0 answer from its DB alone.
    useStateDbOnly: params.useStateDbOnly === true || params.sectionId === null,
    allowedSources: sources.allowed,
    ...(cwdFilters === undefined ? {} : { cwdFilters }),
    ...(params.searchTerm === undefined ? {} : { searchTerm: params.searchTerm }),
    ...(relationFilter === undefined ? {} : { relationFilter: relationFilter as never }),
  };
  const keep = (thread: StoredThread): boolean =>
    !excluded.has(thread.threadId) &&
    (!sources.postFilter || kinds.some((kind) => sourceMatchesKind(thread.source, kind)));

  // Pages as 0.169.0 gathers them: ask the store for what the page still needs, keep the rows
  // the store could not filter itself, and go on from the store's cursor (which says where the
  // store's page ended, whatever was dropped from it) until the page is full or the store is
  // done. The client's cursor goes to the store as it came: the store reads both the file-name
  // form and the DB form it hands out.
  const collected: StoredThread[] = [];
  let cursor: string | undefined = params.cursor;
  let nextCursor: string | null = null;
  for (let round = 0; round < MAX_STORE_PAGES && collected.length < limit; round += 1) {
    const page = await ctx.store.listThreads({
      ...base,
      pageSize: limit - collected.length,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const thread of page.items) {
      if (collected.length < limit && keep(thread)) collected.push(thread);
    }
    nextCursor = page.nextCursor;
    if (collected.length >= limit || nextCursor === null) break;
    if (nextCursor === cursor) {
      nextCursor = null;
      break;
    }
    cursor = nextCursor;
  }

  const data = collected.map((stored) => {
    const facts = storedThreadFacts(stored);
    // 0.169.0's list rows carry no fork source and no thread source (`thread/read` reports
    // them); the spawn parent is the store's to give (a row read from its rollout has it).
    facts.forkedFromId = null;
    facts.threadSource = null;
    // A loaded thread shows its environment; `canAcceptDirectInput` stays null in lists.
    const live = ctx.loaded(stored.threadId);
    if (live !== undefined) {
      facts.environments = [
        { environmentId: 'local', cwd: live.cwd, runtimeWorkspaceRoots: [live.cwd] },
      ];
    }
    return buildThread(facts, ctx.statusOf(stored.threadId));
  });
  const first = collected[0];
  // 0.169.0: the first row's sort time one millisecond further back, always with milliseconds.
  const backwardsCursor =
    first === undefined
      ? null
      : new Date(sortTimeMs(first, sortKey) + (sortDirection === 'desc' ? -1 : 1)).toISOString();
  const readStates: Record<string, WireReadState> = await readStatesOf(ctx, collected);
  return { data, readStates, nextCursor, backwardsCursor };
}

export function listHandler(ctx: HandlerContext): MethodHandler<ThreadListParams> {
  return { schema: threadListParams, handle: ({ params }) => listThreads(ctx, params) };
}

export function loadedListHandler(ctx: HandlerContext): MethodHandler<ThreadLoadedListParams> {
  return {
    schema: threadLoadedListParams,
    async handle({ params }) {
      const ids = [...ctx.loadedThreadIds()].sort();
      // 0.169.0 looks at the cursor only when something is loaded.
      if (ids.length === 0) return { data: [], nextCursor: null };
      let start = 0;
      if (params.cursor !== undefined) {
        const parsed = tryParseThreadId(params.cursor);
        if (!parsed.ok) throw RpcError.invalidRequest(`invalid cursor: ${params.cursor}`);
        start = ids.findIndex((id) => id > parsed.id);
        if (start < 0) start = ids.length;
      }
      const limit = params.limit === undefined ? ids.length : Math.max(1, params.limit);
      const data = ids.slice(start, start + limit);
      const more = start + data.length < ids.length;
      return { data, nextCursor: more ? (data.at(-1) ?? null) : null };
    },
  };
}
