import type { ExpressionBuilder } from 'kysely';
import type { StateContext } from '../context.js';
import { containsText } from '../dialect.js';
import type { StateDatabase } from '../schema.js';

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

/** The source and provider filters of a listing narrower than the one counted. */
export type NarrowerFilter = Pick<CountThreadsFilter, 'sources' | 'providers'>;

type Where = ExpressionBuilder<StateDatabase, 'threads'>;

/** The source and provider conditions of `filter` (true when it has neither). */
function sourceAndProvider(
  eb: Where,
  filter: NarrowerFilter,
  defaultProvider: string,
): ReturnType<Where['and']> {
  const conditions = [];
  if (filter.sources.length > 0) conditions.push(eb('source', 'in', [...filter.sources]));
  if (filter.providers.length > 0) {
    const providers = [...filter.providers];
    conditions.push(
      providers.includes(defaultProvider)
        ? eb.or([eb('model_provider', 'in', providers), eb('model_provider', '=', '')])
        : eb('model_provider', 'in', providers),
    );
  }
  return eb.and(conditions);
}

/**
 * How many threads a listing with these filters would show (threads with a preview), counted in
 * one query instead of reading every row.
 */
export async function countListableThreads(
  ctx: StateContext,
  filter: CountThreadsFilter,
): Promise<number> {
  return (await countListableThreadsWithin(ctx, filter, { sources: [], providers: [] })).all;
}

/**
 * `countListableThreads` (`all`), and how many of those threads a listing that adds `narrower`'s
 * source and provider filters would show (`within`), in the same scan: what a CLI needs to say
 * how many threads its default filters hide.
 */
export async function countListableThreadsWithin(
  ctx: StateContext,
  filter: CountThreadsFilter,
  narrower: NarrowerFilter,
): Promise<{ all: number; within: number }> {
  if (filter.cwds !== null && filter.cwds.length === 0) return { all: 0, within: 0 };
  const narrowed = narrower.sources.length > 0 || narrower.providers.length > 0;
  let query = ctx.db
    .selectFrom('threads')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('archived', '=', filter.archived ? 1 : 0)
    .where('preview', '<>', '')
    .where((eb) => sourceAndProvider(eb, filter, filter.defaultProvider));
  if (narrowed) {
    // Rows counted once more when the narrower filters keep them: one scan for both counts.
    query = query.select((eb) =>
      eb.fn
        .sum<number>(
          eb
            .case()
            .when(sourceAndProvider(eb, narrower, filter.defaultProvider))
            .then(1)
            .else(0)
            .end(),
        )
        .as('m'),
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
  const row = (await query.executeTakeFirst()) as { n?: unknown; m?: unknown } | undefined;
  const all = Number(row?.n ?? 0);
  return { all, within: narrowed ? Number(row?.m ?? 0) : all };
}
