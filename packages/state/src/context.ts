import { type Kysely, sql } from 'kysely';
import { TimestampAllocator } from './clock.js';
import { detectStateSqlDialect, type StateSqlDialect } from './dialect.js';
import { SKEIN_THREADS_PROFILE, type ThreadsProfile } from './profile.js';
import type { StateDatabase } from './schema.js';
import type { StatementCache } from './statement-cache.js';
import { SqliteThreadRowUpdates } from './threads/sqlite-row-updates.js';

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
  /** What Skein's sidecar holds in place of a Codex 0.131 DB (absent: nothing). */
  readonly sidecar?: SidecarStandIns;
  /** SQLite: small row updates as prepared statements on the connection under `db`. */
  readonly rowUpdates?: SqliteThreadRowUpdates;
}

/**
 * What Skein's sidecar (`skein_1.sqlite`, attached to Codex's connection as `skein`) keeps for a
 * Codex DB that lacks it — what Codex 0.169 adds when it migrates a 0.131 DB.
 */
export interface SidecarStandIns {
  /** Recency (`skein.skein_thread_recency`) in place of `threads.recency_at_ms`. */
  readonly recency: boolean;
  /** Read receipts (`skein.thread_read_receipts`) in place of Codex's table. */
  readonly readReceipts: boolean;
  /** `data_version` of Codex's DB when the sidecar's recency rows were last completed. */
  seenDataVersion: number;
}

export interface ThreadSearchIndex {
  /** Ids that may match `term` (a superset of the matches), or null to scan instead. */
  candidateIds(term: string): string[] | null;
}

/**
 * A `StateContext` over a Kysely handle: the dialect (detected when not given), the `threads`
 * layout it queries (Codex's, or Skein's PostgreSQL schema), the default provider and the time
 * allocators. `statements`, the statement cache of the SQLite connection `db` wraps, gives
 * small row updates their prepared-statement path.
 */
export function createStateContext(
  db: Kysely<StateDatabase>,
  options: {
    dialect?: StateSqlDialect;
    defaultProvider?: string;
    profile?: ThreadsProfile;
    statements?: Pick<StatementCache, 'directly'>;
  } = {},
): StateContext {
  return {
    db,
    dialect: options.dialect ?? detectStateSqlDialect(db as Kysely<unknown>),
    profile: options.profile ?? SKEIN_THREADS_PROFILE,
    updatedClock: new TimestampAllocator(),
    recencyClock: new TimestampAllocator(),
    defaultProvider: options.defaultProvider ?? 'openai',
    ...(options.statements === undefined
      ? {}
      : { rowUpdates: new SqliteThreadRowUpdates(options.statements) }),
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
  if (ctx.sidecar?.recency) {
    const { rows } = await sql<{ maxRecency: number | null }>`select max(recency_at_ms) as
      maxRecency from skein.skein_thread_recency`.execute(ctx.db);
    ctx.recencyClock.observe(Number(rows[0]?.maxRecency ?? 0));
  }
}
