import type { ThreadId, ThreadMemoryModeValue, ThreadMetadata } from '@skein/protocol';
import type { Insertable, Selectable } from 'kysely';
import {
  SKEIN_COLUMNS,
  SKEIN_THREADS_PROFILE,
  storesLegacySandboxPolicy,
  type ThreadsProfile,
} from '../profile.js';
import type { ThreadsTable } from '../schema.js';

/** A `threads` row as read: the table's columns plus the spawn parent from the edge table. */
export type ThreadRow = Partial<Selectable<ThreadsTable>> & {
  id: string;
  /** Selected from `thread_spawn_edges` where the table has no parent column (Codex). */
  spawn_parent_id?: string | null;
};

const num = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

/** Unix seconds of a millisecond time, as Codex's seconds columns hold it. */
export const secondsOf = (ms: number): number => Math.floor(ms / 1000);

/**
 * The `threads` columns `rowToMetadata` reads, of either layout (Skein's columns, which Codex's
 * table shares, and Codex's seconds): what a query for metadata selects, of those its table
 * has. Selecting them by name rather than `*` leaves out the columns a newer Codex added for
 * its own features (a tenth of a list page's query time) and keeps a row's shape fixed when
 * Codex adds more.
 */
export const METADATA_COLUMNS: readonly string[] = [
  ...SKEIN_COLUMNS,
  // Codex's whole-second times (its 0.131 rows may hold only these).
  'created_at',
  'updated_at',
  'archived_at',
];

/** Skein's own layout (PostgreSQL): `threadRowToMetadata(row)`. */
export function threadRowToMetadata(row: ThreadRow): ThreadMetadata {
  return rowToMetadata(row, SKEIN_THREADS_PROFILE);
}

/** Reads a row of either layout into the domain record (times in ms). */
export function rowToMetadata(row: ThreadRow, profile: ThreadsProfile): ThreadMetadata {
  const codex = profile.layout === 'codex';
  const createdAtMs = num(row.created_at_ms) ?? (num(row.created_at) ?? 0) * 1000;
  const updatedAtMs = num(row.updated_at_ms) ?? (num(row.updated_at) ?? 0) * 1000;
  const archivedAtMs = codex
    ? row.archived_at === null || row.archived_at === undefined
      ? null
      : Number(row.archived_at) * 1000
    : num(row.archived_at_ms);
  const parent = codex ? (row.spawn_parent_id ?? null) : (row.parent_thread_id ?? null);
  return {
    id: row.id as ThreadId,
    rolloutPath: row.rollout_path ?? '',
    createdAtMs,
    updatedAtMs,
    // Codex's column, or for a 0.131 DB the sidecar's value; a row with neither reads as 0.169
    // reads it after migrating the DB: = updated.
    recencyAtMs: num(row.recency_at_ms) || updatedAtMs,
    source: row.source ?? '',
    threadSource: row.thread_source ?? null,
    agentNickname: row.agent_nickname ?? null,
    agentRole: row.agent_role ?? null,
    agentPath: row.agent_path ?? null,
    modelProvider: row.model_provider ?? '',
    model: row.model ?? null,
    reasoningEffort: row.reasoning_effort ?? null,
    cwd: row.cwd ?? '',
    cliVersion: row.cli_version ?? '',
    title: row.title ?? '',
    name: row.name ?? null,
    preview: row.preview ?? '',
    firstUserMessage: row.first_user_message ?? '',
    sandboxPolicy: row.sandbox_policy ?? '',
    approvalMode: row.approval_mode ?? '',
    tokensUsed: num(row.tokens_used) ?? 0,
    archived: Number(row.archived ?? 0) !== 0,
    archivedAtMs,
    gitSha: row.git_sha ?? null,
    gitBranch: row.git_branch ?? null,
    gitOriginUrl: row.git_origin_url ?? null,
    memoryMode: (row.memory_mode ?? 'enabled') as ThreadMemoryModeValue,
    parentThreadId: parent as ThreadId | null,
    forkedFromId: (row.forked_from_id ?? null) as ThreadId | null,
    historyMode: row.history_mode === 'paginated' ? 'paginated' : 'legacy',
    originator: row.originator ?? null,
  };
}

/**
 * The row written for `meta` with its already allocated times, holding only the columns the
 * profile's table has. `preview` falls back to the first user message (spec §5.4).
 */
export function metadataToRow(
  meta: ThreadMetadata,
  updatedAtMs: number,
  recencyAtMs: number,
  profile: ThreadsProfile,
): Insertable<ThreadsTable> {
  const all = metadataColumnValues(meta, updatedAtMs, recencyAtMs, profile);
  const row: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(all)) {
    if (profile.columns.has(column)) row[column] = value;
  }
  return row as unknown as Insertable<ThreadsTable>;
}

/**
 * Every column value `metadataToRow` may write for the profile's layout, by column name,
 * including columns the table may lack: a bulk writer reads the columns it binds straight
 * from it (building the filtered row for each of 10,000 threads cost more than its insert).
 */
export function metadataColumnValues(
  meta: ThreadMetadata,
  updatedAtMs: number,
  recencyAtMs: number,
  profile: ThreadsProfile,
): Record<string, unknown> {
  const codex = profile.layout === 'codex';
  const createdAtMs = Math.trunc(meta.createdAtMs);
  const archivedAtMs = meta.archived ? Math.trunc(meta.archivedAtMs ?? updatedAtMs) : null;
  const all: Record<string, unknown> = {
    id: meta.id,
    rollout_path: meta.rolloutPath,
    created_at_ms: createdAtMs,
    updated_at_ms: updatedAtMs,
    recency_at_ms: recencyAtMs,
    source: meta.source,
    thread_source: meta.threadSource,
    agent_nickname: meta.agentNickname,
    agent_role: meta.agentRole,
    agent_path: meta.agentPath,
    model_provider: meta.modelProvider,
    model: meta.model,
    reasoning_effort: meta.reasoningEffort,
    cwd: meta.cwd,
    cli_version: meta.cliVersion,
    title: meta.title,
    name: meta.name,
    preview: meta.preview !== '' ? meta.preview : meta.firstUserMessage,
    first_user_message: meta.firstUserMessage,
    sandbox_policy: storesLegacySandboxPolicy(profile)
      ? (meta.sandboxPolicyLegacy ?? meta.sandboxPolicy)
      : meta.sandboxPolicy,
    approval_mode: meta.approvalMode,
    tokens_used: Math.max(0, Math.trunc(meta.tokensUsed)),
    archived: meta.archived ? 1 : 0,
    git_sha: meta.gitSha,
    git_branch: meta.gitBranch,
    git_origin_url: meta.gitOriginUrl,
    memory_mode: meta.memoryMode,
    history_mode: meta.historyMode,
    originator: meta.originator,
  };
  if (codex) {
    all.created_at = secondsOf(createdAtMs);
    all.updated_at = secondsOf(updatedAtMs);
    all.recency_at = secondsOf(recencyAtMs);
    all.archived_at = archivedAtMs === null ? null : secondsOf(archivedAtMs);
  } else {
    all.archived_at_ms = archivedAtMs;
    all.parent_thread_id = meta.parentThreadId;
    all.forked_from_id = meta.forkedFromId;
  }
  return all;
}

/** Columns an upsert overwrites as given (where the table has them). */
export const PLAIN_UPDATE_COLUMNS = [
  'rollout_path',
  'created_at',
  'created_at_ms',
  'updated_at',
  'updated_at_ms',
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
  'first_user_message',
  'sandbox_policy',
  'approval_mode',
  'tokens_used',
  'archived',
  'archived_at',
  'archived_at_ms',
] as const;

/** Columns an existing non-null value keeps on upsert (spec §5.4: existing git wins, ...). */
export const EXISTING_WINS_COLUMNS = [
  'git_sha',
  'git_branch',
  'git_origin_url',
  'originator',
] as const;

/** Skein layout only: a supplied value wins, an absent one keeps the stored one. */
export const NEW_WINS_COLUMNS = ['parent_thread_id', 'forked_from_id'] as const;
