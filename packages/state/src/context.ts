import type { Kysely } from 'kysely';
import { TimestampAllocator } from './clock.js';
import { detectStateSqlDialect, type StateSqlDialect } from './dialect.js';
import { SKEIN_THREADS_PROFILE, type ThreadsProfile } from './profile.js';
import type { StateDatabase } from './schema.js';

/**
 * What every query function takes: the Kysely handle, its dialect and the process-local
 * timestamp allocators. `StateRuntime` builds one for SQLite; a PostgreSQL store builds its own
 * with `createStateContext` and `seedStateClocks`.
 */
export interface StateContext {
  readonly db: Kysely<StateDatabase>;
  readonly dialect: StateSqlDialect;
  /** The physical layout of `threads` (Codex's own DB, or Skein's schema). */
  readonly profile: ThreadsProfile;
  readonly updatedClock: TimestampAllocator;
  readonly recencyClock: TimestampAllocator;
  /** Provider used where a row has none (spec §5.3). */
  readonly defaultProvider: string;
  /** A text index that narrows search terms to candidate ids (SQLite); absent = scan. */
  readonly search?: ThreadSearchIndex;
}

export interface ThreadSearchIndex {
  /** Ids that may match `term` (a superset of the matches), or null to scan instead. */
  candidateIds(term: string): string[] | null;
}

/**
 * A `StateContext` over a Kysely handle: the dialect (detected when not given), the `threads`
 * layout it queries (Codex's, or Skein's PostgreSQL schema), the default provider and the time
 * allocators.
 */
export function createStateContext(
  db: Kysely<StateDatabase>,
  options: { dialect?: StateSqlDialect; defaultProvider?: string; profile?: ThreadsProfile } = {},
): StateContext {
  return {
    db,
    dialect: options.dialect ?? detectStateSqlDialect(db as Kysely<unknown>),
    profile: options.profile ?? SKEIN_THREADS_PROFILE,
    updatedClock: new TimestampAllocator(),
    recencyClock: new TimestampAllocator(),
    defaultProvider: options.defaultProvider ?? 'openai',
  };
}

/** Seeds the allocators from the newest stored values (spec §5.1: done once at open). */
export async function seedStateClocks(ctx: StateContext): Promise<void> {
  const hasRecency = ctx.profile.columns.has('recency_at_ms');
  const row = await ctx.db
    .selectFrom('threads')
    .select((eb) => [
      eb.fn.max('updated_at_ms').as('maxUpdated'),
      eb.fn.max(hasRecency ? 'recency_at_ms' : 'updated_at_ms').as('maxRecency'),
    ])
    .executeTakeFirst();
  ctx.updatedClock.observe(Number(row?.maxUpdated ?? 0));
  ctx.recencyClock.observe(Number(row?.maxRecency ?? 0));
}
