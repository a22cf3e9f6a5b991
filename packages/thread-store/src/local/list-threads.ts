/**
 * `LocalThreadStore.listThreads`: one page of a collection's threads, from the state index
 * when there is one (after rollout's scan-and-repair from the files) or from the files alone,
 * with Codex 0.169's names. A relation listing (a thread's spawned children) reads the spawn
 * edges, or every rollout of the collection without an index.
 *
 * Crash safety: a read. The only writes are rollout's read-repairs of index rows from the files
 * (idempotent upserts); a crash between two of them leaves rows a later listing repairs again.
 */
import {
  decodeThreadCursor,
  type SortDirection,
  type ThreadCursor,
  type ThreadSortKey,
} from '@skein/protocol';
import { findThreadNamesByIds, listThreadsWithDb } from '@skein/rollout';
import {
  getThreads,
  listChildThreads,
  listDescendantThreads,
  MAX_THREAD_PAGE_SIZE,
  type StateDb,
  type ThreadMetadata,
} from '@skein/state';
import { ThreadStoreError, toThreadStoreError } from '../errors.js';
import type { ListThreadsParams, StoredThread, ThreadPage } from '../types.js';
import {
  filterRelation,
  type ListedPage,
  metadataMatches,
  pageMetadata,
  scanRolloutMetadata,
} from './listing.js';
import { distinctTitle, nameFromTitle, storedThreadFromMetadata } from './mapping.js';

/** What the listing operations read from the store: the home, its default provider, its index. */
export interface LocalListingContext {
  codexHome: string;
  defaultModelProvider: string;
  stateDb: StateDb | undefined;
}

/** One page of the listing `params` asks for (see this file's header). */
export async function listLocalThreads(
  ctx: LocalListingContext,
  params: ListThreadsParams,
): Promise<ThreadPage> {
  const cursor = params.cursor ? decodeThreadCursor(params.cursor) : null;
  if (params.cursor && cursor === null) {
    throw ThreadStoreError.invalidRequest(`invalid cursor: ${params.cursor}`);
  }
  if (!(params.pageSize >= 1)) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  const pageSize = Math.min(Math.trunc(params.pageSize), MAX_THREAD_PAGE_SIZE);
  const sortKey = params.sortKey ?? 'createdAt';
  const direction = params.sortDirection ?? 'desc';
  const archived = params.archived ?? false;
  if (params.cwdFilters != null && params.cwdFilters.length === 0) {
    return { items: [], nextCursor: null, backwardsCursor: null };
  }
  let page: ListedPage;
  try {
    page = await listPage(ctx, params, cursor, pageSize, sortKey, direction, archived);
  } catch (error) {
    throw toThreadStoreError(error, 'failed to list threads');
  }
  const fromFiles = page.origin === 'filesystem';
  const items = page.items.map((metadata) => {
    // The collection listed says whether a thread is archived; its name is resolved below.
    const thread = storedThreadFromMetadata(metadata, ctx.defaultModelProvider);
    thread.archivedAtMs = archived ? (metadata.archivedAtMs ?? metadata.updatedAtMs) : null;
    if (!fromFiles) {
      // Codex 0.169's DB rows carry the whole-second `created_at` column and no spawn parent
      // (a relation listing names it from the spawn edges).
      thread.createdAtMs = Math.floor(thread.createdAtMs / 1000) * 1000;
      if (params.relationFilter == null) thread.parentThreadId = null;
    }
    return thread;
  });
  // Names as Codex 0.169 resolves them: a paginated thread's `name` column only; a legacy
  // thread's title when it differs from its first message, else the session index.
  const missing: string[] = [];
  page.items.forEach((metadata, index) => {
    const thread = items[index] as StoredThread;
    const explicit = metadata.name !== null && metadata.name.trim() !== '' ? metadata.name : null;
    const paginated = metadata.historyMode === 'paginated';
    thread.name = nameFromTitle(
      paginated ? explicit : (explicit ?? distinctTitle(metadata)),
      thread.preview,
    );
    if (thread.name === null && !paginated) missing.push(metadata.id);
  });
  if (missing.length > 0) {
    const names = await findThreadNamesByIds(ctx.codexHome, missing).catch(
      () => new Map<string, string>(),
    );
    for (const thread of items) {
      if (thread.name === null && missing.includes(thread.threadId)) {
        thread.name = nameFromTitle(names.get(thread.threadId), thread.preview);
      }
    }
  }
  return { items, nextCursor: page.nextCursor, backwardsCursor: page.backwardsCursor };
}

async function listPage(
  ctx: LocalListingContext,
  params: ListThreadsParams,
  cursor: ThreadCursor | null,
  pageSize: number,
  sortKey: ThreadSortKey,
  direction: SortDirection,
  archived: boolean,
): Promise<ListedPage> {
  const db = ctx.stateDb;
  const relation = params.relationFilter ?? null;
  if (relation === null) {
    // The rollout package's listing: DB pages after scan-and-repair from the files (or the
    // DB alone with `useStateDbOnly`); the files alone without a handle.
    return listThreadsWithDb(ctx.codexHome, {
      pageSize,
      cursor: params.cursor ?? null,
      sortKey,
      sortDirection: direction,
      allowedSources:
        params.allowedSources && params.allowedSources.length > 0 ? params.allowedSources : [],
      ...(params.modelProviders != null && params.modelProviders.length > 0
        ? { modelProviders: params.modelProviders }
        : {}),
      ...(params.cwdFilters != null ? { cwdFilters: params.cwdFilters } : {}),
      ...(params.searchTerm != null ? { searchTerm: params.searchTerm } : {}),
      defaultProvider: ctx.defaultModelProvider,
      archived,
      stateDb: db,
      useStateDbOnly: params.useStateDbOnly ?? false,
    });
  }
  let candidates: ThreadMetadata[];
  if (db !== undefined && relation !== null) {
    const edges =
      relation.kind === 'directChildrenOf'
        ? await listChildThreads(db.ctx, relation.threadId)
        : await listDescendantThreads(db.ctx, relation.threadId);
    const rows = await getThreads(
      db.ctx,
      edges.map((edge) => edge.childId),
    );
    candidates = [...rows.values()].filter((row) => row.archived === archived);
  } else {
    // Relations need the whole tree: every rollout of the collection.
    candidates = await scanRolloutMetadata(ctx.codexHome, archived, ctx.defaultModelProvider);
    if (relation !== null) candidates = filterRelation(candidates, relation);
  }
  const names =
    params.searchTerm && db === undefined
      ? await findThreadNamesByIds(
          ctx.codexHome,
          candidates.map((meta) => meta.id),
        )
      : new Map<string, string>();
  const filtered = candidates.filter((metadata) =>
    metadataMatches(metadata, {
      // Codex 0.169 lists a thread's spawned children whatever their source (a relation is
      // about sub-agents, whose source the interactive default would exclude).
      allowedSources: relation === null ? params.allowedSources : undefined,
      modelProviders: params.modelProviders,
      cwdFilters: params.cwdFilters,
      defaultProvider: ctx.defaultModelProvider,
      searchTerm: params.searchTerm,
      names,
    }),
  );
  const page = pageMetadata(filtered, sortKey, direction, cursor, pageSize);
  return { ...page, origin: 'state_db' };
}
