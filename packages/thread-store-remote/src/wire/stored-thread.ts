/**
 * `StoredThread` and its history ↔ `StoredThreadMessage` / `StoredThreadHistoryMessage`, token
 * usage as Codex's snake_case JSON. A decoded thread is checked with `storedThreadSchema`.
 */
import {
  type StoredThread,
  type StoredThreadHistory,
  storedThreadSchema,
  ThreadStoreError,
  type TokenUsage,
  tokenUsageSchema,
} from '@skein/thread-store';
import type { StoredThreadHistoryMessage, StoredThreadMessage } from '../proto.js';
import { decodeItems, encodeItems, parseJsonLoose, parseThreadIdField } from './json-fields.js';
import { sessionSourceFromMessage, sessionSourceToMessage } from './session-source.js';

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
