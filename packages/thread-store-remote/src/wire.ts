/**
 * Domain ↔ wire conversions for `codex.thread_store.v1`. Both directions fill the v2 fields (so a
 * stock peer understands us) and Skein's `>= 100` additions (so a Skein peer loses nothing); a
 * decoder prefers the additions when they are present. Everything that enters is checked with
 * the zod schemas of @skein/thread-store and fails `InvalidRequest` when it does not parse.
 */
import {
  type CreateThreadParams,
  createThreadParamsSchema,
  type GitInfoPatch,
  type ListThreadsParams,
  type ResumeThreadParams,
  type RolloutItem,
  rolloutItemSchema,
  type SessionSource,
  type StoredThread,
  type StoredThreadHistory,
  sessionSourceSchema,
  storedThreadSchema,
  type ThreadId,
  type ThreadMetadataPatch,
  type ThreadPage,
  type ThreadPersistenceMetadata,
  ThreadStoreError,
  type TokenUsage,
  threadIdSchema,
  threadMetadataPatchSchema,
  threadPersistenceMetadataSchema,
  tokenUsageSchema,
} from '@skein/thread-store';
import type { z } from 'zod';
import type {
  CreateThreadRequestMessage,
  ListThreadsRequestMessage,
  ListThreadsResponseMessage,
  OptionalStringPatchMessage,
  ResumeThreadRequestMessage,
  SessionSourceKind,
  SessionSourceMessage,
  StoredThreadHistoryMessage,
  StoredThreadMessage,
  ThreadMetadataPatchMessage,
} from './proto.js';

// ---------------------------------------------------------------------------------------------
// Parsing helpers

/** Parses JSON text with a schema; any failure is `InvalidRequest` naming the field. */
export function parseJsonField<S extends z.ZodType>(
  schema: S,
  text: string | undefined,
  field: string,
): z.output<S> {
  if (text === undefined || text === '') {
    throw ThreadStoreError.invalidRequest(`remote thread store request is missing ${field}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw ThreadStoreError.invalidRequest(`invalid ${field}: ${String(error)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw ThreadStoreError.invalidRequest(`invalid ${field}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export function parseThreadIdField(text: string | undefined, field = 'thread_id'): ThreadId {
  const parsed = threadIdSchema.safeParse(text ?? '');
  if (!parsed.success) throw ThreadStoreError.invalidRequest(`invalid ${field}: ${text ?? ''}`);
  return parsed.data;
}

export function encodeItems(items: readonly RolloutItem[]): string[] {
  return items.map((item) => JSON.stringify(item));
}

export function decodeItems(texts: readonly string[] | undefined, field: string): RolloutItem[] {
  return (texts ?? []).map((text) => parseJsonField(rolloutItemSchema, text, field));
}

// ---------------------------------------------------------------------------------------------
// SessionSource

const UNIT_SOURCE_KINDS: Record<string, SessionSourceKind> = {
  cli: 'SESSION_SOURCE_KIND_CLI',
  vscode: 'SESSION_SOURCE_KIND_VSCODE',
  exec: 'SESSION_SOURCE_KIND_EXEC',
  mcp: 'SESSION_SOURCE_KIND_APP_SERVER',
  unknown: 'SESSION_SOURCE_KIND_UNKNOWN',
};

export function sessionSourceToMessage(source: SessionSource): SessionSourceMessage {
  const message: SessionSourceMessage = { source_json: JSON.stringify(source) };
  if (typeof source === 'string') {
    message.kind = UNIT_SOURCE_KINDS[source] ?? 'SESSION_SOURCE_KIND_UNKNOWN';
    return message;
  }
  if ('custom' in source)
    return { ...message, kind: 'SESSION_SOURCE_KIND_CUSTOM', custom: source.custom };
  if ('internal' in source) return { ...message, kind: 'SESSION_SOURCE_KIND_UNKNOWN' };
  const sub = source.subagent;
  if (sub === 'review') return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_REVIEW' };
  if (sub === 'compact') return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_COMPACT' };
  if (sub === 'memory_consolidation') {
    return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_MEMORY_CONSOLIDATION' };
  }
  if ('other' in sub) {
    return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_OTHER', sub_agent_other: sub.other };
  }
  const spawn = sub.thread_spawn;
  const out: SessionSourceMessage = {
    ...message,
    kind: 'SESSION_SOURCE_KIND_SUB_AGENT_THREAD_SPAWN',
    sub_agent_parent_thread_id: spawn.parent_thread_id,
    sub_agent_depth: spawn.depth,
  };
  if (spawn.agent_path != null) out.sub_agent_path = spawn.agent_path;
  if (spawn.agent_nickname != null) out.sub_agent_nickname = spawn.agent_nickname;
  if (spawn.agent_role != null) out.sub_agent_role = spawn.agent_role;
  return out;
}

export function sessionSourceFromMessage(message: SessionSourceMessage | undefined): SessionSource {
  if (!message) return 'unknown';
  if (message.source_json !== undefined && message.source_json !== '') {
    return parseJsonField(sessionSourceSchema, message.source_json, 'source_json');
  }
  switch (message.kind ?? 'SESSION_SOURCE_KIND_UNKNOWN') {
    case 'SESSION_SOURCE_KIND_CLI':
      return 'cli';
    case 'SESSION_SOURCE_KIND_VSCODE':
      return 'vscode';
    case 'SESSION_SOURCE_KIND_EXEC':
      return 'exec';
    case 'SESSION_SOURCE_KIND_APP_SERVER':
      return 'mcp';
    case 'SESSION_SOURCE_KIND_CUSTOM':
      return { custom: message.custom ?? '' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_REVIEW':
      return { subagent: 'review' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_COMPACT':
      return { subagent: 'compact' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_MEMORY_CONSOLIDATION':
      return { subagent: 'memory_consolidation' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_OTHER':
      return { subagent: { other: message.sub_agent_other ?? '' } };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_THREAD_SPAWN': {
      if (!message.sub_agent_parent_thread_id) {
        throw ThreadStoreError.invalidRequest(
          'remote thread store omitted sub-agent parent thread id',
        );
      }
      return {
        subagent: {
          thread_spawn: {
            parent_thread_id: message.sub_agent_parent_thread_id,
            depth: message.sub_agent_depth ?? 0,
            agent_path: message.sub_agent_path ?? null,
            agent_nickname: message.sub_agent_nickname ?? null,
            agent_role: message.sub_agent_role ?? null,
          },
        },
      };
    }
    default:
      return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Token usage: Codex's snake_case JSON on the wire.

function tokenUsageToJson(usage: TokenUsage): string {
  return JSON.stringify({
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    output_tokens: usage.outputTokens,
    reasoning_output_tokens: usage.reasoningOutputTokens,
    total_tokens: usage.totalTokens,
  });
}

function tokenUsageFromJson(text: string): TokenUsage {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw ThreadStoreError.invalidRequest(
      `remote thread store returned invalid token_usage_json: ${String(error)}`,
    );
  }
  const pick = (snake: string, camel: string) => raw[snake] ?? raw[camel] ?? 0;
  return tokenUsageSchema.parse({
    inputTokens: pick('input_tokens', 'inputTokens'),
    cachedInputTokens: pick('cached_input_tokens', 'cachedInputTokens'),
    outputTokens: pick('output_tokens', 'outputTokens'),
    reasoningOutputTokens: pick('reasoning_output_tokens', 'reasoningOutputTokens'),
    totalTokens: pick('total_tokens', 'totalTokens'),
  });
}

function parseJsonLoose(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ThreadStoreError.invalidRequest(
      `remote thread store returned invalid ${field}: ${String(error)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// StoredThread

const seconds = (ms: number) => Math.floor(ms / 1000);

export function storedThreadToMessage(thread: StoredThread): StoredThreadMessage {
  const message: StoredThreadMessage = {
    thread_id: thread.threadId,
    preview: thread.preview,
    model_provider: thread.modelProvider,
    created_at: seconds(thread.createdAtMs),
    updated_at: seconds(thread.updatedAtMs),
    cwd: thread.cwd,
    cli_version: thread.cliVersion,
    source: sessionSourceToMessage(thread.source),
    approval_mode_json: JSON.stringify(thread.approvalMode),
    sandbox_policy_json: JSON.stringify(thread.permissionProfile),
    created_at_ms: thread.createdAtMs,
    updated_at_ms: thread.updatedAtMs,
    recency_at_ms: thread.recencyAtMs,
    history_mode: thread.historyMode,
  };
  if (thread.forkedFromId !== null) message.forked_from_id = thread.forkedFromId;
  if (thread.name !== null) message.name = thread.name;
  if (thread.model !== null) message.model = thread.model;
  if (thread.archivedAtMs !== null) {
    message.archived_at = seconds(thread.archivedAtMs);
    message.archived_at_ms = thread.archivedAtMs;
  }
  if (thread.gitInfo !== null) {
    const git: NonNullable<StoredThreadMessage['git_info']> = {};
    if (thread.gitInfo.commitHash !== null) git.sha = thread.gitInfo.commitHash;
    if (thread.gitInfo.branch !== null) git.branch = thread.gitInfo.branch;
    if (thread.gitInfo.repositoryUrl !== null) git.origin_url = thread.gitInfo.repositoryUrl;
    message.git_info = git;
  }
  if (thread.agentNickname !== null) message.agent_nickname = thread.agentNickname;
  if (thread.agentRole !== null) message.agent_role = thread.agentRole;
  if (thread.agentPath !== null) message.agent_path = thread.agentPath;
  if (thread.reasoningEffort !== null) message.reasoning_effort = thread.reasoningEffort;
  if (thread.firstUserMessage !== null) message.first_user_message = thread.firstUserMessage;
  if (thread.rolloutPath !== null) message.rollout_path = thread.rolloutPath;
  if (thread.tokenUsage !== null) message.token_usage_json = tokenUsageToJson(thread.tokenUsage);
  if (thread.history !== null) message.history = historyToMessage(thread.history);
  if (thread.threadSource !== null) message.thread_source = thread.threadSource;
  if (thread.parentThreadId !== null) message.parent_thread_id = thread.parentThreadId;
  if (thread.extraConfig !== null) message.extra_config_json = JSON.stringify(thread.extraConfig);
  return message;
}

export function storedThreadFromMessage(message: StoredThreadMessage): StoredThread {
  const createdAtMs = message.created_at_ms ?? (message.created_at ?? 0) * 1000;
  const updatedAtMs = message.updated_at_ms ?? (message.updated_at ?? 0) * 1000;
  const archivedAtMs =
    message.archived_at_ms ??
    (message.archived_at !== undefined ? message.archived_at * 1000 : null);
  const source = sessionSourceFromMessage(message.source);
  const spawnParent =
    typeof source === 'object' &&
    'subagent' in source &&
    typeof source.subagent === 'object' &&
    'thread_spawn' in source.subagent
      ? source.subagent.thread_spawn.parent_thread_id
      : null;
  const git = message.git_info;
  const candidate = {
    threadId: message.thread_id ?? '',
    extraConfig:
      message.extra_config_json !== undefined
        ? parseJsonLoose(message.extra_config_json, 'extra_config_json')
        : null,
    rolloutPath: message.rollout_path ?? null,
    forkedFromId: message.forked_from_id ?? null,
    parentThreadId: message.parent_thread_id ?? spawnParent,
    preview: message.preview ?? '',
    name: message.name ?? null,
    modelProvider: message.model_provider ?? '',
    model: message.model ?? null,
    reasoningEffort: message.reasoning_effort ?? null,
    createdAtMs,
    updatedAtMs,
    recencyAtMs: message.recency_at_ms ?? updatedAtMs,
    archivedAtMs,
    cwd: message.cwd ?? '',
    cliVersion: message.cli_version ?? '',
    source,
    historyMode: message.history_mode === 'paginated' ? 'paginated' : 'legacy',
    threadSource: message.thread_source ?? null,
    agentNickname: message.agent_nickname ?? null,
    agentRole: message.agent_role ?? null,
    agentPath: message.agent_path ?? null,
    gitInfo:
      git && (git.sha !== undefined || git.branch !== undefined || git.origin_url !== undefined)
        ? {
            commitHash: git.sha ?? null,
            branch: git.branch ?? null,
            repositoryUrl: git.origin_url ?? null,
          }
        : null,
    approvalMode:
      message.approval_mode_json !== undefined
        ? parseJsonLoose(message.approval_mode_json, 'approval_mode_json')
        : 'on-request',
    permissionProfile:
      message.sandbox_policy_json !== undefined
        ? parseJsonLoose(message.sandbox_policy_json, 'sandbox_policy_json')
        : { type: 'read-only' },
    tokenUsage:
      message.token_usage_json !== undefined ? tokenUsageFromJson(message.token_usage_json) : null,
    firstUserMessage: message.first_user_message ?? null,
    history: message.history ? historyFromMessage(message.history) : null,
  };
  const parsed = storedThreadSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw ThreadStoreError.invalidRequest(
      `remote thread store returned an invalid thread: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data as StoredThread;
}

export function historyToMessage(history: StoredThreadHistory): StoredThreadHistoryMessage {
  return { thread_id: history.threadId, items_json: encodeItems(history.items) };
}

export function historyFromMessage(message: StoredThreadHistoryMessage): StoredThreadHistory {
  return {
    threadId: parseThreadIdField(message.thread_id),
    items: decodeItems(message.items_json, 'items_json'),
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

export function createThreadToMessage(params: CreateThreadParams): CreateThreadRequestMessage {
  const message: CreateThreadRequestMessage = {
    thread_id: params.threadId,
    source: sessionSourceToMessage(params.source),
    base_instructions_json: JSON.stringify(params.baseInstructions ?? null),
    dynamic_tools_json: (params.dynamicTools ?? []).map((tool) => JSON.stringify(tool)),
    event_persistence_mode: 'THREAD_EVENT_PERSISTENCE_MODE_LIMITED',
    metadata_json: JSON.stringify(persistenceMetadataToWire(params.metadata)),
    params_json: JSON.stringify(params),
  };
  if (params.forkedFromId != null) message.forked_from_id = params.forkedFromId;
  return message;
}

export function createThreadFromMessage(message: CreateThreadRequestMessage): CreateThreadParams {
  if (message.params_json) {
    return parseJsonField(
      createThreadParamsSchema,
      message.params_json,
      'params_json',
    ) as CreateThreadParams;
  }
  const threadId = parseThreadIdField(message.thread_id);
  const params: CreateThreadParams = {
    threadId,
    source: sessionSourceFromMessage(message.source),
    originator: '',
    metadata: persistenceMetadataFromWire(message.metadata_json, 'metadata_json'),
  };
  if (message.forked_from_id) params.forkedFromId = parseThreadIdField(message.forked_from_id);
  if (message.base_instructions_json) {
    const base = parseJsonLoose(message.base_instructions_json, 'base_instructions_json') as {
      text?: unknown;
    } | null;
    if (base && typeof base.text === 'string') params.baseInstructions = { text: base.text };
  }
  if (message.dynamic_tools_json && message.dynamic_tools_json.length > 0) {
    params.dynamicTools = message.dynamic_tools_json.map(
      (text) => parseJsonLoose(text, 'dynamic_tools_json') as never,
    );
  }
  return params;
}

function persistenceMetadataToWire(metadata: ThreadPersistenceMetadata) {
  return {
    cwd: metadata.cwd,
    model_provider: metadata.modelProvider,
    memory_mode: metadata.memoryMode,
  };
}

function persistenceMetadataFromWire(
  text: string | undefined,
  field: string,
): ThreadPersistenceMetadata {
  const raw = (text ? parseJsonLoose(text, field) : {}) as Record<string, unknown>;
  return threadPersistenceMetadataSchema.parse({
    cwd: typeof raw.cwd === 'string' ? raw.cwd : null,
    modelProvider: typeof raw.model_provider === 'string' ? raw.model_provider : '',
    memoryMode: raw.memory_mode === 'disabled' ? 'disabled' : 'enabled',
  });
}

export function resumeThreadToMessage(params: ResumeThreadParams): ResumeThreadRequestMessage {
  const message: ResumeThreadRequestMessage = {
    thread_id: params.threadId,
    history_json: params.history != null ? encodeItems(params.history) : [],
    has_history: params.history != null,
    include_archived: params.includeArchived === true,
    event_persistence_mode: 'THREAD_EVENT_PERSISTENCE_MODE_LIMITED',
    metadata_defaults_json: JSON.stringify({ model_provider: params.metadata.modelProvider }),
    metadata_json: JSON.stringify(params.metadata),
  };
  if (params.rolloutPath != null) message.rollout_path = params.rolloutPath;
  return message;
}

export function resumeThreadFromMessage(message: ResumeThreadRequestMessage): ResumeThreadParams {
  const params: ResumeThreadParams = {
    threadId: parseThreadIdField(message.thread_id),
    includeArchived: message.include_archived === true,
    metadata: message.metadata_json
      ? parseJsonField(threadPersistenceMetadataSchema, message.metadata_json, 'metadata_json')
      : persistenceMetadataFromWire(message.metadata_defaults_json, 'metadata_defaults_json'),
  };
  if (message.has_history) params.history = decodeItems(message.history_json, 'history_json');
  if (message.rollout_path) params.rolloutPath = message.rollout_path;
  return params;
}

const SORT_KEYS = {
  createdAt: 'THREAD_SORT_KEY_CREATED_AT',
  updatedAt: 'THREAD_SORT_KEY_UPDATED_AT',
  recencyAt: 'THREAD_SORT_KEY_RECENCY_AT',
} as const;

export function listThreadsToMessage(params: ListThreadsParams): ListThreadsRequestMessage {
  // page_size is a uint32 on the wire: a negative one cannot be sent, so it is refused here as
  // every store refuses it.
  if (!(params.pageSize >= 1)) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  if (params.pageSize > 0xffff_ffff) {
    throw ThreadStoreError.invalidRequest(`page_size is too large: ${params.pageSize}`);
  }
  const sources = params.allowedSources ?? [];
  const message: ListThreadsRequestMessage = {
    page_size: params.pageSize,
    sort_key: SORT_KEYS[params.sortKey ?? 'createdAt'],
    allowed_sources: sources.map(sessionSourceToMessage),
    allowed_sources_json: sources.map((source) => JSON.stringify(source)),
    archived: params.archived === true,
    use_state_db_only: params.useStateDbOnly === true,
    sort_direction:
      (params.sortDirection ?? 'desc') === 'asc' ? 'SORT_DIRECTION_ASC' : 'SORT_DIRECTION_DESC',
  };
  if (params.cursor != null) message.cursor = params.cursor;
  if (params.modelProviders != null)
    message.model_provider_filter = { values: [...params.modelProviders] };
  if (params.cwdFilters != null) message.cwd_filter = { values: [...params.cwdFilters] };
  if (params.searchTerm != null) message.search_term = params.searchTerm;
  if (params.relationFilter != null) {
    message.relation_filter = {
      kind:
        params.relationFilter.kind === 'directChildrenOf'
          ? 'THREAD_RELATION_KIND_DIRECT_CHILDREN_OF'
          : 'THREAD_RELATION_KIND_DESCENDANTS_OF',
      thread_id: params.relationFilter.threadId,
    };
  }
  return message;
}

export function listThreadsFromMessage(message: ListThreadsRequestMessage): ListThreadsParams {
  const params: ListThreadsParams = {
    pageSize: message.page_size ?? 0,
    sortKey:
      message.sort_key === 'THREAD_SORT_KEY_UPDATED_AT'
        ? 'updatedAt'
        : message.sort_key === 'THREAD_SORT_KEY_RECENCY_AT'
          ? 'recencyAt'
          : 'createdAt',
    // proto3: an unset direction reads as its zero value, ASC.
    sortDirection: message.sort_direction === 'SORT_DIRECTION_DESC' ? 'desc' : 'asc',
    archived: message.archived === true,
    useStateDbOnly: message.use_state_db_only === true,
  };
  const json = message.allowed_sources_json ?? [];
  const sources = message.allowed_sources ?? [];
  if (json.length > 0) {
    params.allowedSources = json.map((text) =>
      parseJsonField(sessionSourceSchema, text, 'allowed_sources_json'),
    );
  } else if (sources.length > 0) {
    params.allowedSources = sources.map(sessionSourceFromMessage);
  }
  if (message.cursor !== undefined) params.cursor = message.cursor;
  if (message.model_provider_filter)
    params.modelProviders = message.model_provider_filter.values ?? [];
  if (message.cwd_filter) params.cwdFilters = message.cwd_filter.values ?? [];
  if (message.search_term !== undefined) params.searchTerm = message.search_term;
  if (message.relation_filter) {
    const threadId = parseThreadIdField(
      message.relation_filter.thread_id,
      'relation_filter.thread_id',
    );
    params.relationFilter =
      message.relation_filter.kind === 'THREAD_RELATION_KIND_DESCENDANTS_OF'
        ? { kind: 'descendantsOf', threadId }
        : { kind: 'directChildrenOf', threadId };
  }
  return params;
}

export function threadPageToMessage(page: ThreadPage): ListThreadsResponseMessage {
  const message: ListThreadsResponseMessage = { threads: page.items.map(storedThreadToMessage) };
  if (page.nextCursor !== null) message.next_cursor = page.nextCursor;
  if (page.backwardsCursor != null) message.backwards_cursor = page.backwardsCursor;
  return message;
}

export function threadPageFromMessage(message: ListThreadsResponseMessage): ThreadPage {
  return {
    items: (message.threads ?? []).map(storedThreadFromMessage),
    nextCursor: message.next_cursor ?? null,
    backwardsCursor: message.backwards_cursor ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Metadata patch

function optionalStringPatch(value: string | null | undefined): OptionalStringPatchMessage {
  if (value === undefined) return { kind: 'OPTIONAL_STRING_PATCH_KIND_UNSET' };
  if (value === null) return { kind: 'OPTIONAL_STRING_PATCH_KIND_CLEAR' };
  return { kind: 'OPTIONAL_STRING_PATCH_KIND_SET', value };
}

function fromOptionalStringPatch(
  patch: OptionalStringPatchMessage | undefined,
): string | null | undefined {
  if (!patch) return undefined;
  if (patch.kind === 'OPTIONAL_STRING_PATCH_KIND_CLEAR') return null;
  if (patch.kind === 'OPTIONAL_STRING_PATCH_KIND_SET') return patch.value ?? '';
  return undefined;
}

export function patchToMessage(patch: ThreadMetadataPatch): ThreadMetadataPatchMessage {
  const message: ThreadMetadataPatchMessage = { patch_json: JSON.stringify(patch) };
  if (typeof patch.name === 'string') message.name = patch.name;
  if (patch.memoryMode !== undefined) {
    message.memory_mode =
      patch.memoryMode === 'disabled'
        ? 'THREAD_MEMORY_MODE_DISABLED'
        : 'THREAD_MEMORY_MODE_ENABLED';
  }
  if (patch.gitInfo !== undefined) {
    message.git_info = {
      sha: optionalStringPatch(patch.gitInfo.sha),
      branch: optionalStringPatch(patch.gitInfo.branch),
      origin_url: optionalStringPatch(patch.gitInfo.originUrl),
    };
  }
  return message;
}

export function patchFromMessage(
  message: ThreadMetadataPatchMessage | undefined,
): ThreadMetadataPatch {
  if (!message) return {};
  if (message.patch_json) {
    return parseJsonField(
      threadMetadataPatchSchema,
      message.patch_json,
      'patch_json',
    ) as ThreadMetadataPatch;
  }
  const patch: ThreadMetadataPatch = {};
  if (message.name !== undefined) patch.name = message.name;
  if (message.memory_mode !== undefined) {
    patch.memoryMode =
      message.memory_mode === 'THREAD_MEMORY_MODE_DISABLED' ? 'disabled' : 'enabled';
  }
  if (message.git_info) {
    const git: GitInfoPatch = {};
    const sha = fromOptionalStringPatch(message.git_info.sha);
    const branch = fromOptionalStringPatch(message.git_info.branch);
    const originUrl = fromOptionalStringPatch(message.git_info.origin_url);
    if (sha !== undefined) git.sha = sha;
    if (branch !== undefined) git.branch = branch;
    if (originUrl !== undefined) git.originUrl = originUrl;
    patch.gitInfo = git;
  }
  return patch;
}
