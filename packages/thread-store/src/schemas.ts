/**
 * zod schemas for every ThreadStore parameter and result (spec thread-store §3), for the
 * boundaries where data enters: JSON-RPC, gRPC, config and files. Each schema is checked
 * against its TypeScript type at compile time (`satisfies z.ZodType<T>`).
 *
 * Tri-state patch fields use `exactOptional()` + `nullable()`: an absent key stays absent and
 * `null` stays `null` (clear).
 */
import {
  clearableFieldSchema,
  gitInfoPatchSchema,
  gitInfoSchema,
  sessionSourceSchema,
  sortDirectionSchema,
  threadIdSchema,
  threadSortKeySchema,
} from '@skein/protocol';
import { rolloutLineFromJson } from '@skein/rollout';
import * as z from 'zod';
import { THREAD_STORE_ERROR_CODES } from './errors.js';
import type {
  AppendThreadItemsParams,
  ArchiveThreadParams,
  CreateThreadParams,
  DeleteThreadParams,
  ItemPage,
  JsonValue,
  ListItemsParams,
  ListThreadsParams,
  ListTurnsParams,
  LoadThreadHistoryParams,
  ReadThreadByRolloutPathParams,
  ReadThreadParams,
  ResumeThreadParams,
  RolloutItem,
  SearchThreadsParams,
  StoredThread,
  StoredThreadHistory,
  StoredThreadItem,
  StoredThreadSearchResult,
  StoredTurn,
  ThreadMetadataPatch,
  ThreadPage,
  ThreadPersistenceMetadata,
  ThreadRelationFilter,
  ThreadSearchPage,
  TokenUsage,
  TurnPage,
  UpdateThreadMetadataParams,
} from './types.js';

// The shared vocabulary's schemas, exported here as before.
export {
  gitInfoPatchSchema,
  gitInfoSchema,
  sessionSourceSchema,
  sortDirectionSchema,
  threadIdSchema,
  threadSortKeySchema,
};

/** Zod schema of `JsonValue`: validates one where it enters (a wire, a file, a config). */
export const jsonValueSchema: z.ZodType<JsonValue> = z.json();

/**
 * A rollout item on the wire: `{type, payload}` with the on-disk kind (an opaque item may also
 * arrive as `{type: 'opaque', kind, payload}`). Payloads are validated by the rollout schemas;
 * unknown kinds become opaque items, never errors.
 */
export const rolloutItemSchema = z
  .object({ type: z.string(), kind: z.string().optional(), payload: z.unknown() })
  .transform((item, context): RolloutItem => {
    const kind = item.type === 'opaque' && item.kind !== undefined ? item.kind : item.type;
    const parsed = rolloutLineFromJson({ timestamp: '', type: kind, payload: item.payload });
    if (!parsed.ok) {
      context.addIssue({ code: 'custom', message: `invalid ${kind} payload` });
      return z.NEVER;
    }
    const { timestamp: _timestamp, ...rolloutItem } = parsed.line;
    return rolloutItem as RolloutItem;
  });

/** Zod schema of `ThreadHistoryMode`: validates one where it enters (a wire, a file, a config). */
export const threadHistoryModeSchema = z.enum(['legacy', 'paginated']);
/** Zod schema of `ThreadMemoryMode`: validates one where it enters (a wire, a file, a config). */
export const threadMemoryModeSchema = z.enum(['enabled', 'disabled']);
/** Zod schema of `ThreadSource`: validates one where it enters (a wire, a file, a config). */
export const threadSourceSchema = z.enum(['user', 'subagent', 'memory_consolidation']);
/**
 * Zod schema of `StoredTurnItemsView`: validates one where it enters (a wire, a file, a config).
 */
export const storedTurnItemsViewSchema = z.enum(['notLoaded', 'summary', 'full']);
/** Zod schema of `StoredTurnStatus`: validates one where it enters (a wire, a file, a config). */
export const storedTurnStatusSchema = z.enum(['completed', 'interrupted', 'failed', 'inProgress']);
/** Zod schema of a `ThreadStoreErrorCode`. */
export const threadStoreErrorCodeSchema = z.enum(THREAD_STORE_ERROR_CODES as [string, ...string[]]);

/**
 * Zod schema of `ThreadRelationFilter`: validates one where it enters (a wire, a file, a config).
 */
export const threadRelationFilterSchema = z.union([
  z.object({ kind: z.literal('directChildrenOf'), threadId: threadIdSchema }),
  z.object({ kind: z.literal('descendantsOf'), threadId: threadIdSchema }),
]) satisfies z.ZodType<ThreadRelationFilter>;

/** Zod schema of `TokenUsage`: validates one where it enters (a wire, a file, a config). */
export const tokenUsageSchema = z.object({
  inputTokens: z.number(),
  cachedInputTokens: z.number(),
  outputTokens: z.number(),
  reasoningOutputTokens: z.number(),
  totalTokens: z.number(),
}) satisfies z.ZodType<TokenUsage>;

const extraConfigSchema = z.object({}).transform((): Record<string, never> => ({}));

/**
 * Zod schema of `ThreadMetadataPatch`: validates one where it enters (a wire, a file, a config).
 */
export const threadMetadataPatchSchema = z.object({
  name: clearableFieldSchema(z.string()),
  rolloutPath: z.string().exactOptional(),
  preview: z.string().exactOptional(),
  title: z.string().exactOptional(),
  modelProvider: z.string().exactOptional(),
  model: z.string().exactOptional(),
  reasoningEffort: z.string().exactOptional(),
  createdAtMs: z.number().exactOptional(),
  updatedAtMs: z.number().exactOptional(),
  advanceRecencyAtMs: z.number().exactOptional(),
  source: sessionSourceSchema.exactOptional(),
  threadSource: clearableFieldSchema(threadSourceSchema),
  agentNickname: clearableFieldSchema(z.string()),
  agentRole: clearableFieldSchema(z.string()),
  agentPath: clearableFieldSchema(z.string()),
  cwd: z.string().exactOptional(),
  cliVersion: z.string().exactOptional(),
  approvalMode: z.string().exactOptional(),
  permissionProfile: jsonValueSchema.exactOptional(),
  tokenUsage: tokenUsageSchema.exactOptional(),
  firstUserMessage: z.string().exactOptional(),
  gitInfo: gitInfoPatchSchema.exactOptional(),
  memoryMode: threadMemoryModeSchema.exactOptional(),
  historyMode: threadHistoryModeSchema.exactOptional(),
}) satisfies z.ZodType<ThreadMetadataPatch>;

/**
 * Zod schema of `ThreadPersistenceMetadata`: validates one where it enters (a wire, a file, a
 * config).
 */
export const threadPersistenceMetadataSchema = z.object({
  cwd: z.string().nullable(),
  modelProvider: z.string(),
  memoryMode: threadMemoryModeSchema,
}) satisfies z.ZodType<ThreadPersistenceMetadata>;

/** Zod schema of `CreateThreadParams`: validates one where it enters (a wire, a file, a config). */
export const createThreadParamsSchema = z.object({
  threadId: threadIdSchema,
  createdAtMs: z.number().int().nonnegative().optional(),
  sessionId: z.string().optional(),
  extraConfig: extraConfigSchema.nullish(),
  forkedFromId: threadIdSchema.nullish(),
  parentThreadId: threadIdSchema.nullish(),
  source: sessionSourceSchema,
  threadSource: threadSourceSchema.nullish(),
  originator: z.string(),
  baseInstructions: z.object({ text: z.string() }).nullish(),
  dynamicTools: z.array(jsonValueSchema).optional(),
  selectedCapabilityRoots: z.array(jsonValueSchema).optional(),
  multiAgentVersion: z.string().nullish(),
  historyMode: threadHistoryModeSchema.optional(),
  initialWindowId: z.string().nullish(),
  metadata: threadPersistenceMetadataSchema,
}) satisfies z.ZodType<CreateThreadParams>;

/** Zod schema of `ResumeThreadParams`: validates one where it enters (a wire, a file, a config). */
export const resumeThreadParamsSchema = z.object({
  threadId: threadIdSchema,
  rolloutPath: z.string().nullish(),
  history: z.array(rolloutItemSchema).nullish(),
  includeArchived: z.boolean().optional(),
  metadata: threadPersistenceMetadataSchema,
}) satisfies z.ZodType<ResumeThreadParams>;

/**
 * Zod schema of `AppendThreadItemsParams`: validates one where it enters (a wire, a file, a
 * config).
 */
export const appendThreadItemsParamsSchema = z.object({
  threadId: threadIdSchema,
  items: z.array(rolloutItemSchema),
}) satisfies z.ZodType<AppendThreadItemsParams>;

/**
 * Zod schema of `LoadThreadHistoryParams`: validates one where it enters (a wire, a file, a
 * config).
 */
export const loadThreadHistoryParamsSchema = z.object({
  threadId: threadIdSchema,
  includeArchived: z.boolean().optional(),
}) satisfies z.ZodType<LoadThreadHistoryParams>;

/** Zod schema of `ReadThreadParams`: validates one where it enters (a wire, a file, a config). */
export const readThreadParamsSchema = z.object({
  threadId: threadIdSchema,
  includeArchived: z.boolean().optional(),
  includeHistory: z.boolean().optional(),
}) satisfies z.ZodType<ReadThreadParams>;

/**
 * Zod schema of `ReadThreadByRolloutPathParams`: validates one where it enters (a wire, a file, a
 * config).
 */
export const readThreadByRolloutPathParamsSchema = z.object({
  rolloutPath: z.string().min(1),
  includeArchived: z.boolean().optional(),
  includeHistory: z.boolean().optional(),
}) satisfies z.ZodType<ReadThreadByRolloutPathParams>;

const pageSizeSchema = z.number().int().min(0).max(0xffff_ffff);

/** Zod schema of `ListThreadsParams`: validates one where it enters (a wire, a file, a config). */
export const listThreadsParamsSchema = z.object({
  pageSize: pageSizeSchema,
  cursor: z.string().nullish(),
  sortKey: threadSortKeySchema.optional(),
  sortDirection: sortDirectionSchema.optional(),
  allowedSources: z.array(sessionSourceSchema).optional(),
  modelProviders: z.array(z.string()).nullish(),
  cwdFilters: z.array(z.string()).nullish(),
  archived: z.boolean().optional(),
  searchTerm: z.string().nullish(),
  relationFilter: threadRelationFilterSchema.nullish(),
  useStateDbOnly: z.boolean().optional(),
}) satisfies z.ZodType<ListThreadsParams>;

/**
 * Zod schema of `SearchThreadsParams`: validates one where it enters (a wire, a file, a config).
 */
export const searchThreadsParamsSchema = z.object({
  pageSize: pageSizeSchema,
  cursor: z.string().nullish(),
  sortKey: threadSortKeySchema.optional(),
  sortDirection: sortDirectionSchema.optional(),
  allowedSources: z.array(sessionSourceSchema).optional(),
  archived: z.boolean().optional(),
  searchTerm: z.string(),
}) satisfies z.ZodType<SearchThreadsParams>;

/** Zod schema of `ListTurnsParams`: validates one where it enters (a wire, a file, a config). */
export const listTurnsParamsSchema = z.object({
  threadId: threadIdSchema,
  includeArchived: z.boolean().optional(),
  cursor: z.string().nullish(),
  pageSize: pageSizeSchema,
  sortDirection: sortDirectionSchema.optional(),
  itemsView: storedTurnItemsViewSchema.optional(),
}) satisfies z.ZodType<ListTurnsParams>;

/** Zod schema of `ListItemsParams`: validates one where it enters (a wire, a file, a config). */
export const listItemsParamsSchema = z.object({
  threadId: threadIdSchema,
  turnId: z.string().nullish(),
  includeArchived: z.boolean().optional(),
  cursor: z.string().nullish(),
  pageSize: pageSizeSchema,
  sortDirection: sortDirectionSchema.optional(),
}) satisfies z.ZodType<ListItemsParams>;

/**
 * Zod schema of `UpdateThreadMetadataParams`: validates one where it enters (a wire, a file, a
 * config).
 */
export const updateThreadMetadataParamsSchema = z.object({
  threadId: threadIdSchema,
  patch: threadMetadataPatchSchema,
  includeArchived: z.boolean().optional(),
}) satisfies z.ZodType<UpdateThreadMetadataParams>;

/**
 * Zod schema of `ArchiveThreadParams`: validates one where it enters (a wire, a file, a config).
 */
export const archiveThreadParamsSchema = z.object({
  threadId: threadIdSchema,
}) satisfies z.ZodType<ArchiveThreadParams>;

/** Zod schema of `DeleteThreadParams`: validates one where it enters (a wire, a file, a config). */
export const deleteThreadParamsSchema = z.object({
  threadId: threadIdSchema,
}) satisfies z.ZodType<DeleteThreadParams>;

// ---------------------------------------------------------------------------------------------
// results

/**
 * Zod schema of `StoredThreadHistory`: validates one where it enters (a wire, a file, a config).
 */
export const storedThreadHistorySchema = z.object({
  threadId: threadIdSchema,
  items: z.array(rolloutItemSchema),
}) satisfies z.ZodType<StoredThreadHistory>;

/** Zod schema of `StoredThread`: validates one where it enters (a wire, a file, a config). */
export const storedThreadSchema = z.object({
  threadId: threadIdSchema,
  extraConfig: extraConfigSchema.nullable(),
  rolloutPath: z.string().nullable(),
  forkedFromId: threadIdSchema.nullable(),
  parentThreadId: threadIdSchema.nullable(),
  preview: z.string(),
  name: z.string().nullable(),
  modelProvider: z.string(),
  model: z.string().nullable(),
  reasoningEffort: z.string().nullable(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
  recencyAtMs: z.number(),
  archivedAtMs: z.number().nullable(),
  cwd: z.string(),
  cliVersion: z.string(),
  source: sessionSourceSchema,
  historyMode: threadHistoryModeSchema,
  threadSource: threadSourceSchema.nullable(),
  agentNickname: z.string().nullable(),
  agentRole: z.string().nullable(),
  agentPath: z.string().nullable(),
  gitInfo: gitInfoSchema.nullable(),
  approvalMode: z.string(),
  permissionProfile: jsonValueSchema,
  tokenUsage: tokenUsageSchema.nullable(),
  firstUserMessage: z.string().nullable(),
  originator: z.string().nullable().exactOptional(),
  history: storedThreadHistorySchema.nullable(),
}) satisfies z.ZodType<StoredThread>;

/** Zod schema of `ThreadPage`: validates one where it enters (a wire, a file, a config). */
export const threadPageSchema = z.object({
  items: z.array(storedThreadSchema),
  nextCursor: z.string().nullable(),
  backwardsCursor: z.string().nullable().exactOptional(),
}) satisfies z.ZodType<ThreadPage>;

/**
 * Zod schema of `StoredThreadSearchResult`: validates one where it enters (a wire, a file, a
 * config).
 */
export const storedThreadSearchResultSchema = z.object({
  thread: storedThreadSchema,
  snippet: z.string(),
}) satisfies z.ZodType<StoredThreadSearchResult>;

/** Zod schema of `ThreadSearchPage`: validates one where it enters (a wire, a file, a config). */
export const threadSearchPageSchema = z.object({
  items: z.array(storedThreadSearchResultSchema),
  nextCursor: z.string().nullable(),
}) satisfies z.ZodType<ThreadSearchPage>;

/** Zod schema of `StoredTurn`: validates one where it enters (a wire, a file, a config). */
export const storedTurnSchema = z.object({
  turnId: z.string(),
  items: z.array(rolloutItemSchema),
  metadataJson: z.string().nullable(),
  turnCreatedAtMs: z.number().nullable(),
  itemsView: storedTurnItemsViewSchema,
  status: storedTurnStatusSchema,
  error: z.object({ message: z.string(), additionalDetails: z.string().nullable() }).nullable(),
  startedAt: z.number().nullable(),
  completedAt: z.number().nullable(),
  durationMs: z.number().nullable(),
}) satisfies z.ZodType<StoredTurn>;

/** Zod schema of `TurnPage`: validates one where it enters (a wire, a file, a config). */
export const turnPageSchema = z.object({
  turns: z.array(storedTurnSchema),
  nextCursor: z.string().nullable(),
  backwardsCursor: z.string().nullable(),
}) satisfies z.ZodType<TurnPage>;

/** Zod schema of `StoredThreadItem`: validates one where it enters (a wire, a file, a config). */
export const storedThreadItemSchema = z.object({
  turnId: z.string().nullable(),
  itemKey: z.string(),
  itemOrdinal: z.number().int().min(0),
  itemCreatedAtMs: z.number().nullable(),
  materializedThreadItemJson: z.string(),
}) satisfies z.ZodType<StoredThreadItem>;

/** Zod schema of `ItemPage`: validates one where it enters (a wire, a file, a config). */
export const itemPageSchema = z.object({
  items: z.array(storedThreadItemSchema),
  nextCursor: z.string().nullable(),
  backwardsCursor: z.string().nullable(),
}) satisfies z.ZodType<ItemPage>;

/** Zod schema of a `ThreadStoreError` as JSON (`{code, message, detail}`), as it crosses a wire. */
export const threadStoreErrorJsonSchema = z.object({
  code: threadStoreErrorCodeSchema,
  message: z.string(),
  detail: z.string(),
});
