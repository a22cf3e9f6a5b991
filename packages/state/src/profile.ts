import type { ThreadSortKey } from '@skein/protocol';
/**
 * Which physical `threads` table the query layer talks to. Skein's queries run on two layouts:
 * - `codex`: Codex's own `state_5.sqlite`, whose columns depend on the Codex version that
 *   wrote it (0.131 has 29, 0.169 has 43): times in seconds beside the `_ms` columns, the
 *   archive time in seconds, the parent only in `thread_spawn_edges`, no fork source column;
 * - `skein`: Skein's own schema (PostgreSQL), with every column the domain model has.
 * A profile is read off the DB (`PRAGMA table_info`), never assumed from a version string, so
 * a DB that a future Codex changed is still read by what it has.
 */
export interface ThreadsProfile {
  readonly layout: 'codex' | 'skein';
  /** Columns of `threads`. */
  readonly columns: ReadonlySet<string>;
  /** Other tables the DB has (`thread_read_receipts`, `thread_dynamic_tools`, ...). */
  readonly tables: ReadonlySet<string>;
  /**
   * Null when Skein may write this DB; else why it must not (an unknown or newer Codex
   * schema: Skein then writes only the files).
   */
  readonly readOnlyReason: string | null;
}

/** Whether the `threads` table this profile describes has `column`. */
export function profileHas(profile: ThreadsProfile, column: string): boolean {
  return profile.columns.has(column);
}

/**
 * Whether `sandbox_policy` holds the legacy `SandboxPolicy` JSON (Codex 0.131 wrote it so; its
 * schema predates `history_mode`) rather than 0.169's permission profile.
 */
export function storesLegacySandboxPolicy(profile: ThreadsProfile): boolean {
  return profile.layout === 'codex' && !profile.columns.has('history_mode');
}

/** The column a sort key reads, with `recencyAt` falling back where the DB has none. */
export function sortColumnOf(
  profile: ThreadsProfile,
  sortKey: ThreadSortKey,
): 'created_at_ms' | 'updated_at_ms' | 'recency_at_ms' {
  if (sortKey === 'createdAt') return 'created_at_ms';
  if (sortKey === 'recencyAt' && profile.columns.has('recency_at_ms')) return 'recency_at_ms';
  return 'updated_at_ms';
}

export const SKEIN_COLUMNS = [
  'id',
  'rollout_path',
  'created_at_ms',
  'updated_at_ms',
  'recency_at_ms',
  'source',
  'thread_source',
  'agent_nickname',
  'agent_role',
  'agent_path',
  'model_provider',
  'model',
  'reasoning_effort',
  'cwd',
  'cli_version',
  'title',
  'name',
  'preview',
  'first_user_message',
  'sandbox_policy',
  'approval_mode',
  'tokens_used',
  'archived',
  'archived_at_ms',
  'git_sha',
  'git_branch',
  'git_origin_url',
  'memory_mode',
  'parent_thread_id',
  'forked_from_id',
  'history_mode',
  'originator',
] as const;

/** Skein's own schema (migrations in `migrations.ts`; PostgreSQL). */
export const SKEIN_THREADS_PROFILE: ThreadsProfile = Object.freeze({
  layout: 'skein',
  columns: new Set<string>(SKEIN_COLUMNS),
  tables: new Set(['threads', 'thread_spawn_edges', 'backfill_state', 'leases']),
  readOnlyReason: null,
});

/** A Codex DB's profile from what it has. */
export function codexThreadsProfile(
  columns: Iterable<string>,
  tables: Iterable<string>,
  readOnlyReason: string | null,
): ThreadsProfile {
  return Object.freeze({
    layout: 'codex',
    columns: new Set(columns),
    tables: new Set(tables),
    readOnlyReason,
  });
}
