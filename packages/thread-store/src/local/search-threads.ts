/**
 * `LocalThreadStore.searchThreads`: threads whose visible conversation contains a term
 * (case-insensitive), found by reading the collection's rollouts, then ordered, filtered and
 * paged by the store's own listing so the cursors are the listing's.
 *
 * Crash safety: a read; nothing is written.
 */
import { plainRolloutPath, resolveRolloutFile } from '@skein/rollout';
import { toThreadStoreError } from '../errors.js';
import { validateSearchParams } from '../search-text.js';
import type {
  ListThreadsParams,
  SearchThreadsParams,
  ThreadPage,
  ThreadSearchPage,
} from '../types.js';
import { rolloutLinkOutsideHome } from './home-links.js';
import { collectionRolloutFiles } from './listing.js';
import { searchRolloutFile } from './search.js';

/** What a search reads: the home, and the store's listing (for order, filters and cursors). */
export interface LocalSearchContext {
  codexHome: string;
  listThreads(params: ListThreadsParams): Promise<ThreadPage>;
}

/**
 * Threads whose visible conversation contains `searchTerm` (case-insensitive), in listing
 * order with the listing's filters and cursors, each with a snippet of its first match.
 */
export async function searchLocalThreads(
  ctx: LocalSearchContext,
  params: SearchThreadsParams,
): Promise<ThreadSearchPage> {
  const { term, pageSize } = validateSearchParams(params);
  const archived = params.archived ?? false;
  const snippets = new Map<string, string>();
  try {
    const files = collectionRolloutFiles(ctx.codexHome, archived);
    for (let index = 0; index < files.length; index += 16) {
      const batch = files.slice(index, index + 16);
      const found = await Promise.all(
        batch.map(async (file) => {
          const actual = await resolveRolloutFile(file);
          // Never read through a link out of the home.
          if (actual === null || (await rolloutLinkOutsideHome(ctx.codexHome, actual)) !== null)
            return null;
          return searchRolloutFile(actual, term).catch(() => null);
        }),
      );
      batch.forEach((file, i) => {
        const snippet = found[i];
        if (snippet != null) snippets.set(plainRolloutPath(file), snippet);
      });
    }
  } catch (error) {
    throw toThreadStoreError(error, 'failed to search rollout contents');
  }
  if (snippets.size === 0) return { items: [], nextCursor: null };
  const sortKey = params.sortKey ?? 'createdAt';
  const scanSize = Math.min(1000, Math.max(256, Math.min(2048, pageSize * 8)));
  const listParams = {
    sortKey,
    ...(params.sortDirection !== undefined ? { sortDirection: params.sortDirection } : {}),
    ...(params.allowedSources !== undefined ? { allowedSources: params.allowedSources } : {}),
    archived,
  };
  // Each match remembers the page cursor it was found under and its index on that page, so
  // the next cursor is the listing's own (its key and tie-break), whatever the source.
  const results: {
    result: ThreadSearchPage['items'][number];
    from: string | null;
    at: number;
  }[] = [];
  let cursor = params.cursor ?? null;
  for (let round = 0; round < 1000 && results.length <= pageSize; round += 1) {
    const page = await ctx.listThreads({ ...listParams, pageSize: scanSize, cursor });
    page.items.forEach((thread, at) => {
      const snippet = thread.rolloutPath === null ? undefined : snippets.get(thread.rolloutPath);
      if (snippet !== undefined) results.push({ result: { thread, snippet }, from: cursor, at });
    });
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  const items = results.slice(0, pageSize).map((entry) => entry.result);
  const last = results[pageSize - 1];
  let nextCursor: string | null = null;
  if (results.length > pageSize && last !== undefined) {
    const upTo = await ctx.listThreads({
      ...listParams,
      pageSize: last.at + 1,
      cursor: last.from,
    });
    nextCursor = upTo.nextCursor;
  }
  return { items, nextCursor };
}
