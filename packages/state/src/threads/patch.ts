/**
 * A thread row patch, in the state index's own vocabulary, and the one mapping of its fields to
 * columns for every dialect and layout (SQLite in Codex's layout, PostgreSQL in Skein's): the
 * stores encode their patches into this shape and never name a column themselves.
 */
import type {
  ClearableField,
  GitInfoPatch,
  ThreadHistoryModeValue,
  ThreadMemoryModeValue,
  ThreadMetadata,
} from '@skein/protocol';
import { sql } from 'kysely';
import type { StateContext } from '../context.js';
import { storesLegacySandboxPolicy } from '../profile.js';
import type { ThreadsTable } from '../schema.js';
import { advanceSidecarRecency, recencyInSidecar } from '../sidecar/recency.js';
import { secondsOf } from './row.js';
import { assertWritable, updatedColumns, updateThreadColumns } from './write.js';

/** A change to a thread's row: only present fields change. */
export interface ThreadRowPatch {
  rolloutPath?: string;
  /** An empty preview never clears a stored one (spec §5.4: a row once listed stays listable). */
  preview?: string;
  title?: string;
  /**
   * The explicit name, where the DB keeps names (spec codex-db-effects §2.2): Codex 0.169
   * stores a paginated thread's name in `name` and a legacy thread's in `title`; a DB without
   * a `name` column (0.131) keeps it in `title`.
   */
  name?: ClearableField<string>;
  modelProvider?: string;
  model?: string | null;
  reasoningEffort?: string | null;
  createdAtMs?: number;
  /** Stamps `updated_at` (allocated, so no two rows share one). */
  updatedAtMs?: number;
  /** Moves recency forward to at least this time (never back). */
  advanceRecencyAtMs?: number;
  /** The session source as stored (`encodeSessionSource`). */
  source?: string;
  threadSource?: string | null;
  agentNickname?: string | null;
  agentRole?: string | null;
  agentPath?: string | null;
  cwd?: string;
  cliVersion?: string;
  approvalMode?: string;
  /** The permission profile as JSON, as Codex 0.169 stores it. */
  sandboxPolicy?: string;
  tokensUsed?: number;
  /** Also the preview of a row that has none yet. */
  firstUserMessage?: string;
  /** `null` clears all three git fields; an object patches field by field. */
  git?: GitInfoPatch | null;
  memoryMode?: ThreadMemoryModeValue;
  /** Never goes back from `paginated` (a paginated history cannot become legacy). */
  historyMode?: ThreadHistoryModeValue;
}

/** Fields written to their column as given. */
const PLAIN_FIELD_COLUMNS = {
  rolloutPath: 'rollout_path',
  title: 'title',
  modelProvider: 'model_provider',
  model: 'model',
  reasoningEffort: 'reasoning_effort',
  source: 'source',
  threadSource: 'thread_source',
  agentNickname: 'agent_nickname',
  agentRole: 'agent_role',
  agentPath: 'agent_path',
  cwd: 'cwd',
  cliVersion: 'cli_version',
  approvalMode: 'approval_mode',
  firstUserMessage: 'first_user_message',
  memoryMode: 'memory_mode',
} as const satisfies Partial<Record<keyof ThreadRowPatch, keyof ThreadsTable>>;

type PlainField = keyof typeof PLAIN_FIELD_COLUMNS;
const PLAIN_FIELDS = Object.keys(PLAIN_FIELD_COLUMNS) as PlainField[];

/** Applies a patch to an existing row; returns whether the row exists. */
export async function patchThreadMetadata(
  ctx: StateContext,
  id: string,
  patch: ThreadRowPatch,
): Promise<boolean> {
  assertWritable(ctx);
  const { profile } = ctx;
  const columns = profile.columns;
  const set: Record<string, unknown> = {};
  for (const field of PLAIN_FIELDS) {
    const value = patch[field];
    const column = PLAIN_FIELD_COLUMNS[field];
    if (value !== undefined && columns.has(column)) set[column] = value;
  }
  // A 0.131 DB holds the legacy SandboxPolicy there, which a permission profile is not.
  if (patch.sandboxPolicy !== undefined && !storesLegacySandboxPolicy(profile)) {
    set.sandbox_policy = patch.sandboxPolicy;
  }
  if (patch.tokensUsed !== undefined) set.tokens_used = Math.max(0, Math.trunc(patch.tokensUsed));
  if (patch.preview !== undefined && patch.preview !== '') {
    set.preview = patch.preview;
  } else if (patch.firstUserMessage !== undefined && patch.firstUserMessage !== '') {
    set.preview = sql`case when preview = '' then ${patch.firstUserMessage} else preview end`;
  }
  if (patch.createdAtMs !== undefined) {
    const createdAtMs = Math.trunc(patch.createdAtMs);
    set.created_at_ms = createdAtMs;
    if (columns.has('created_at')) set.created_at = secondsOf(createdAtMs);
  }
  if (patch.historyMode !== undefined && columns.has('history_mode')) {
    set.history_mode =
      patch.historyMode === 'paginated'
        ? 'paginated'
        : sql`case when history_mode = 'paginated' then 'paginated' else ${patch.historyMode} end`;
  }
  if (patch.name !== undefined) {
    if (profile.layout === 'skein') set.name = patch.name;
    else if (!columns.has('name') || !columns.has('history_mode')) {
      // Codex clears a title-held name to '' (spec thread-store §4.10 step 5.5).
      set.title = patch.name ?? '';
    } else {
      const paginated = sql<boolean>`history_mode = 'paginated'`;
      set.name = sql`case when ${paginated} then ${patch.name} else name end`;
      set.title = sql`case when ${paginated} then title else ${patch.name ?? ''} end`;
    }
  }
  if (patch.git === null) {
    set.git_sha = null;
    set.git_branch = null;
    set.git_origin_url = null;
  } else if (patch.git) {
    if (patch.git.sha !== undefined) set.git_sha = patch.git.sha;
    if (patch.git.branch !== undefined) set.git_branch = patch.git.branch;
    if (patch.git.originUrl !== undefined) set.git_origin_url = patch.git.originUrl;
  }
  if (patch.updatedAtMs !== undefined) Object.assign(set, updatedColumns(ctx, patch.updatedAtMs));
  if (patch.advanceRecencyAtMs !== undefined && recencyInSidecar(ctx)) {
    const target = ctx.recencyClock.allocate(patch.advanceRecencyAtMs);
    await advanceSidecarRecency(ctx, id, target);
  } else if (patch.advanceRecencyAtMs !== undefined && columns.has('recency_at_ms')) {
    const target = ctx.recencyClock.allocate(patch.advanceRecencyAtMs);
    // A bound JS number is a REAL to SQLite: cast, or `recency_at` would store a fraction.
    const later = sql`case when recency_at_ms < ${target} then cast(${target} as bigint) else recency_at_ms end`;
    set.recency_at_ms = later;
    if (columns.has('recency_at')) set.recency_at = sql`cast((${later}) / 1000 as bigint)`;
  }
  if (Object.keys(set).length === 0) {
    const row = await ctx.db
      .selectFrom('threads')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }
  return updateThreadColumns(ctx, id, set);
}

/**
 * The value a rename writes in a row, in the column it writes (spec codex-db-effects §2.2):
 * `name` for a 0.169 paginated thread (and Skein's own layout), else `title`: what
 * `patchThreadMetadata` writes for `name`, read back.
 */
export function storedThreadName(ctx: StateContext, row: ThreadMetadata): string | null {
  const { profile } = ctx;
  if (profile.layout === 'skein') return row.name;
  const paginatedNames = profile.columns.has('name') && profile.columns.has('history_mode');
  return paginatedNames && row.historyMode === 'paginated' ? row.name : row.title;
}

/**
 * The row a patch leaves, computed in memory by the same rules as `patchThreadMetadata` (for a
 * row about to be written whole, such as a new thread's first upsert). Times are taken as
 * given: allocation happens when the row is written. `name`, `git`, recency and memory mode are
 * applied too; a caller that writes them separately leaves them out of the patch.
 */
export function applyThreadRowPatch(meta: ThreadMetadata, patch: ThreadRowPatch): ThreadMetadata {
  const next: ThreadMetadata = { ...meta };
  const target = next as unknown as Record<PlainField, unknown>;
  for (const field of PLAIN_FIELDS) {
    const value = patch[field];
    if (value !== undefined) target[field] = value;
  }
  if (patch.sandboxPolicy !== undefined) next.sandboxPolicy = patch.sandboxPolicy;
  if (patch.tokensUsed !== undefined) next.tokensUsed = Math.max(0, Math.trunc(patch.tokensUsed));
  if (patch.preview !== undefined && patch.preview !== '') next.preview = patch.preview;
  else if (next.preview === '' && patch.firstUserMessage !== undefined)
    next.preview = patch.firstUserMessage;
  if (patch.createdAtMs !== undefined) next.createdAtMs = Math.trunc(patch.createdAtMs);
  if (patch.updatedAtMs !== undefined) next.updatedAtMs = patch.updatedAtMs;
  if (patch.historyMode !== undefined && next.historyMode !== 'paginated')
    next.historyMode = patch.historyMode;
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.git === null) {
    next.gitSha = null;
    next.gitBranch = null;
    next.gitOriginUrl = null;
  } else if (patch.git) {
    if (patch.git.sha !== undefined) next.gitSha = patch.git.sha;
    if (patch.git.branch !== undefined) next.gitBranch = patch.git.branch;
    if (patch.git.originUrl !== undefined) next.gitOriginUrl = patch.git.originUrl;
  }
  if (patch.advanceRecencyAtMs !== undefined && patch.advanceRecencyAtMs > next.recencyAtMs)
    next.recencyAtMs = patch.advanceRecencyAtMs;
  return next;
}
