import type { Generated } from 'kysely';

/**
 * Kysely table types of Skein's state DB. Column names are snake_case SQL names; times are
 * integer unix milliseconds (`*_at_ms`). Integers that can exceed 2^31 are `bigint` columns in
 * SQL, so a PostgreSQL driver may hand them back as strings: every reader goes through
 * `Number(...)` (see `threadRowToMetadata`).
 */
export interface StateDatabase {
  threads: ThreadsTable;
  thread_spawn_edges: ThreadSpawnEdgesTable;
  backfill_state: BackfillStateTable;
  leases: LeasesTable;
  thread_read_receipts: ThreadReadReceiptsTable;
  thread_dynamic_tools: ThreadDynamicToolsTable;
}

type Int = number | string | bigint;

/**
 * The `threads` table as Kysely sees it: every column of Codex's layout and of Skein's PostgreSQL
 * schema (a given DB has a subset; see `ThreadsProfile`).
 */
export interface ThreadsTable {
  id: string;
  rollout_path: string;
  created_at_ms: Int;
  updated_at_ms: Int;
  recency_at_ms: Int;
  source: string;
  thread_source: string | null;
  agent_nickname: string | null;
  agent_role: string | null;
  agent_path: string | null;
  model_provider: string;
  model: string | null;
  reasoning_effort: string | null;
  cwd: string;
  cli_version: string;
  title: string;
  name: string | null;
  preview: string;
  first_user_message: string;
  sandbox_policy: string;
  approval_mode: string;
  tokens_used: Int;
  /** 0/1 (an integer in both dialects, so one query text fits both). */
  archived: number;
  archived_at_ms: Int | null;
  git_sha: string | null;
  git_branch: string | null;
  git_origin_url: string | null;
  memory_mode: string;
  parent_thread_id: string | null;
  forked_from_id: string | null;
  history_mode: string;
  originator: string | null;
  // Codex's own columns (state_5.sqlite): times in seconds beside the `_ms` ones, and the
  // archive time in seconds. Which of these a DB has is described by its `ThreadsProfile`.
  created_at: Int;
  updated_at: Int;
  recency_at: Int;
  archived_at: Int | null;
  has_user_event: number;
}

/** Codex 0.169's read receipts (spec codex-db-effects §3). */
export interface ThreadReadReceiptsTable {
  thread_id: string;
  /** NULL = read; '' = unread from the thread start; else the first unread turn id. */
  first_unread_turn: string | null;
  /** Random UUID, new on every change (compare-and-set token). */
  revision: string;
  last_published_turn: string | null;
}

export interface ThreadDynamicToolsTable {
  thread_id: string;
  position: Int;
  name: string;
  description: string;
  input_schema: string;
  defer_loading: number;
  namespace: string | null;
}

/** `thread_spawn_edges`: which thread spawned which sub-agent thread, and the edge's status. */
export interface ThreadSpawnEdgesTable {
  parent_thread_id: string;
  child_thread_id: string;
  /** `open` when recorded; callers may move it on (`closed`, ...). */
  status: string;
  /** Skein's schema only (Codex's edges have no time; they order by child id). */
  created_at_ms: Int;
}

/** The state of the one-time import of a home's rollouts. */
export type BackfillStatus = 'pending' | 'running' | 'complete';

/**
 * The backfill singleton. In a Codex DB it has Codex's columns only (`last_success_at`,
 * `updated_at` in seconds); the `_ms` and owner columns are Skein's schema (PostgreSQL).
 */
export interface BackfillStateTable {
  /** Always 1: a singleton row. */
  id: number;
  status: string;
  last_success_at: Int | null;
  updated_at: Int;
  /** Home-relative path (with `/`) of the last rollout a checkpoint covered. */
  last_watermark: string | null;
  last_success_at_ms: Int | null;
  updated_at_ms: Int;
  /** Who is (or last was) running the backfill; informational, the lease decides. */
  owner_host: string | null;
  owner_pid: number | null;
  owner_start_token: string | null;
  /** Counters of the last run, for `doctor`-style reports. */
  files_done: Generated<Int>;
  files_failed: Generated<Int>;
  /** JSON list of `CREATE INDEX` statements dropped for a fast first import (SQLite). */
  deferred_index_sql: string | null;
}

/**
 * Skein's `leases` table (in `skein_1.sqlite`, or PostgreSQL): named leases with their holder and
 * expiry.
 */
export interface LeasesTable {
  /** What the lease guards, e.g. `backfill`. */
  name: string;
  /** Unique per holder instance (one process may hold several leases). */
  owner_id: string;
  owner_host: string;
  owner_pid: number;
  /** Identifies the owner process's start, so a reused pid is told apart (see lease-owner.ts). */
  owner_start_token: string;
  acquired_at_ms: Int;
  heartbeat_at_ms: Int;
  expires_at_ms: Int;
}
