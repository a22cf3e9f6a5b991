import type { StateContext } from '../context.js';
import { containsText } from '../dialect.js';

/** The listing filters `countListableThreads` applies (those of `listThreads`). */
export interface CountThreadsFilter {
  archived: boolean;
  /** Encoded sources (as stored); empty = all. */
  sources: readonly string[];
  /** Providers; empty = all. A row without a provider counts as `defaultProvider`'s. */
  providers: readonly string[];
  defaultProvider: string;
  /** Exact cwds; null = all, `[]` = nothing. */
  cwds: readonly string[] | null;
  /** Case-sensitive substring of the name or the title, as `listThreads` matches it. */
  searchTerm?: string | null;
}

/**
 * How many threads a listing with these filters would show (threads with a preview), counted in
 * one query instead of reading every row: what a CLI needs to say how many threads its default
 * filters hide.
 */
export async function countListableThreads(
  ctx: StateContext,
  filter: CountThreadsFilter,
): Promise<number> {
  if (filter.cwds !== null && filter.cwds.length === 0) return 0;
  let query = ctx.db
    .selectFrom('threads')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('archived', '=', filter.archived ? 1 : 0)
    .where('preview', '<>', '');
  if (filter.sources.length > 0) query = query.where('source', 'in', [...filter.sources]);
  if (filter.providers.length > 0) {
    const providers = [...filter.providers];
    query = query.where((eb) =>
      providers.includes(filter.defaultProvider)
        ? eb.or([eb('model_provider', 'in', providers), eb('model_provider', '=', '')])
        : eb('model_provider', 'in', providers),
    );
  }
  if (filter.cwds !== null) query = query.where('cwd', 'in', [...filter.cwds]);
  const term = filter.searchTerm;
  if (term) {
    const columns = (['name', 'title'] as const).filter((column) =>
      ctx.profile.columns.has(column),
    );
    query = query.where((eb) =>
      eb.or(columns.map((column) => containsText(ctx.dialect, eb.ref(column), term))),
    );
  }
  const row = await query.executeTakeFirst();
  return Number(row?.n ?? 0);
}
