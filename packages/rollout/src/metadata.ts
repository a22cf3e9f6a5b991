import {
  DEFAULT_SESSION_SOURCE,
  encodeSessionSource,
  isThreadId,
  parseFileTimestamp,
  parseRfc3339Ms,
  parseThreadId,
  type SessionSourceJson,
  type ThreadId,
} from '@skein/protocol';
import { defaultThreadMetadata, type ThreadMetadata } from '@skein/state/thread-core';
import {
  type EventMsg,
  type HistoryBase,
  parseEventMsg,
  type RolloutItem,
  type SessionMetaLine,
  type TurnContextItem,
  type TurnItem,
} from './schema.js';

/*
 * Thread metadata from rollout items (spec rollout-state §5.6), as pure functions: the same
 * code serves backfill (whole files) and LiveThread's metadata sync (appended batches).
 */

// The source codec and Codex's time forms are the shared vocabulary's; this package's API keeps
// exporting them.
export {
  DEFAULT_SESSION_SOURCE,
  decodeSessionSource,
  encodeSessionSource,
  parseRfc3339Ms,
} from '@skein/protocol';

/** The sub-agent spawn block of a `{"subagent":{"thread_spawn":{...}}}` source, if any. */
export function threadSpawnOf(
  source: SessionSourceJson | undefined | null,
): Record<string, unknown> | null {
  if (typeof source !== 'object' || source === null) return null;
  const subagent = source.subagent;
  if (typeof subagent !== 'object' || subagent === null) return null;
  const spawn = (subagent as Record<string, unknown>).thread_spawn;
  return typeof spawn === 'object' && spawn !== null ? (spawn as Record<string, unknown>) : null;
}

/** A `session_meta.timestamp`: RFC 3339, or the file-name form `YYYY-MM-DDThh-mm-ss` (UTC). */
export function parseSessionTimestampMs(text: string): number | null {
  return parseRfc3339Ms(text) ?? parseFileTimestamp(text);
}

/** Everything up to and including this marker is stripped from a user message's preview. */
export const USER_REQUEST_MARKER = '## My request for Codex:';
/** Preview of a user message that carries only images. */
export const IMAGE_ONLY_PREVIEW = '[Image]';

/** The user's own words in a message: text after the request marker, trimmed. */
export function stripUserMessagePrefix(message: string): string {
  const at = message.indexOf(USER_REQUEST_MARKER);
  const text = at >= 0 ? message.slice(at + USER_REQUEST_MARKER.length) : message;
  return text.trim();
}

/**
 * A user message as metadata uses it: the text (Codex's request marker stripped) and whether it
 * had images.
 */
export interface UserMessageText {
  /** The stripped text ('' when none). Sets title and first user message. */
  text: string;
  /** The list preview: the text, or `[Image]` for an image-only message, or null. */
  preview: string | null;
}

/**
 * The text metadata records for a user message (the part after Codex's request marker; `[Image]`
 * for an image-only message).
 */
export function userMessageText(message: string, hasImages: boolean): UserMessageText {
  const text = stripUserMessagePrefix(message);
  if (text !== '') return { text, preview: text };
  return { text: '', preview: hasImages ? IMAGE_ONLY_PREVIEW : null };
}

/** Text and image presence of a 0.169 `UserMessage` turn item (paginated rollouts). */
export function turnItemUserMessage(item: TurnItem): UserMessageText | null {
  if (item.type !== 'UserMessage') return null;
  const parts: string[] = [];
  let hasImages = false;
  for (const part of item.content ?? []) {
    if (part.type === 'text' && typeof part.text === 'string') parts.push(part.text);
    else if (part.type === 'image' || part.type === 'local_image') hasImages = true;
  }
  return userMessageText(parts.join('\n'), hasImages);
}

/**
 * The user message an event carries: a legacy `user_message`, or (paginated files) an
 * `item_completed` whose item is a `UserMessage`. Null for every other event.
 */
export function eventUserMessage(event: EventMsg): UserMessageText | null {
  if (event.type !== 'user_message' && event.type !== 'item_completed') return null;
  const known = parseEventMsg(event);
  if (known === null) return null;
  if (known.type === 'user_message') {
    const hasImages = (known.images?.length ?? 0) > 0 || (known.local_images?.length ?? 0) > 0;
    return userMessageText(known.message, hasImages);
  }
  if (known.type === 'item_completed') return turnItemUserMessage(known.item);
  return null;
}

/** Event kinds whose payload can change thread metadata. */
const METADATA_EVENT_TYPES = new Set([
  'token_count',
  'user_message',
  'thread_goal_updated',
  'item_completed',
]);

/** Whether an item can change metadata (others only bump `updated_at`). */
export function rolloutItemAffectsMetadata(item: RolloutItem): boolean {
  switch (item.type) {
    case 'session_meta':
    case 'turn_context':
      return true;
    case 'event_msg':
      if (!METADATA_EVENT_TYPES.has(item.payload.type)) return false;
      if (item.payload.type !== 'item_completed') return true;
      return eventUserMessage(item.payload) !== null;
    default:
      return false;
  }
}

function encodePolicy(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toThreadId(value: string | null | undefined): ThreadId | null {
  if (typeof value !== 'string' || !isThreadId(value)) return null;
  return parseThreadId(value);
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Applies a thread's own `session_meta` (caller checked the id). */
function applySessionMeta(metadata: ThreadMetadata, meta: SessionMetaLine): void {
  metadata.source = encodeSessionSource(meta.source);
  metadata.threadSource = nonEmpty(meta.thread_source);
  const spawn = threadSpawnOf(meta.source);
  const spawnString = (key: string): string | null => {
    const value = spawn?.[key];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  metadata.agentNickname = nonEmpty(meta.agent_nickname) ?? spawnString('agent_nickname');
  metadata.agentRole =
    nonEmpty(meta.agent_role) ?? nonEmpty(meta.agent_type) ?? spawnString('agent_role');
  metadata.agentPath = nonEmpty(meta.agent_path) ?? spawnString('agent_path');
  if (typeof meta.model_provider === 'string' && meta.model_provider !== '') {
    metadata.modelProvider = meta.model_provider;
  }
  if (typeof meta.cli_version === 'string' && meta.cli_version !== '') {
    metadata.cliVersion = meta.cli_version;
  }
  if (meta.cwd !== '') metadata.cwd = meta.cwd;
  if (meta.git !== undefined && meta.git !== null) {
    metadata.gitSha = nonEmpty(meta.git.commit_hash);
    metadata.gitBranch = nonEmpty(meta.git.branch);
    metadata.gitOriginUrl = nonEmpty(meta.git.repository_url);
  }
  metadata.parentThreadId =
    toThreadId(meta.parent_thread_id) ??
    toThreadId(typeof spawn?.parent_thread_id === 'string' ? spawn.parent_thread_id : null);
  metadata.forkedFromId = toThreadId(meta.forked_from_id);
  metadata.historyMode = meta.history_mode === 'paginated' ? 'paginated' : 'legacy';
  metadata.originator = nonEmpty(meta.originator);
}

function applyTurnContext(metadata: ThreadMetadata, context: TurnContextItem): void {
  if (metadata.cwd === '' && context.cwd !== '') metadata.cwd = context.cwd;
  metadata.model = context.model;
  metadata.reasoningEffort = nonEmpty(context.effort);
  const sandbox = encodePolicy(context.permission_profile ?? context.sandbox_policy);
  if (sandbox !== null) metadata.sandboxPolicy = sandbox;
  const legacy = encodePolicy(context.sandbox_policy);
  if (legacy !== null) metadata.sandboxPolicyLegacy = legacy;
  const approval = encodePolicy(context.approval_policy);
  if (approval !== null) metadata.approvalMode = approval;
}

/** The tokens used a `token_count` event with `info` records; null for any other event. */
export function eventTokensUsed(event: EventMsg): number | null {
  if (event.type !== 'token_count') return null;
  const known = parseEventMsg(event);
  if (known?.type !== 'token_count' || !known.info) return null;
  return Math.max(0, Math.trunc(known.info.total_token_usage.total_tokens));
}

function applyEvent(metadata: ThreadMetadata, event: EventMsg): void {
  const user = eventUserMessage(event);
  if (user !== null) {
    if (user.preview !== null) {
      if (metadata.firstUserMessage === '') metadata.firstUserMessage = user.preview;
      if (metadata.preview === '') metadata.preview = user.preview;
    }
    if (metadata.title === '' && user.text !== '') metadata.title = user.text;
    return;
  }
  if (event.type === 'token_count') {
    const tokens = eventTokensUsed(event);
    if (tokens !== null) metadata.tokensUsed = tokens;
    return;
  }
  if (event.type === 'thread_goal_updated') {
    const known = parseEventMsg(event);
    if (known?.type === 'thread_goal_updated' && metadata.preview === '') {
      const objective = known.goal.objective.trim();
      if (objective !== '') metadata.preview = objective;
    }
  }
}

/**
 * Applies one item to `metadata` in place (the builder step of §5.6). A `session_meta` of
 * another thread (a fork's copy of its parent) is ignored.
 */
export function applyRolloutItemInPlace(
  metadata: ThreadMetadata,
  item: RolloutItem,
  defaultProvider: string,
): void {
  switch (item.type) {
    case 'session_meta':
      if (item.payload.id.toLowerCase() === metadata.id) applySessionMeta(metadata, item.payload);
      break;
    case 'turn_context':
      applyTurnContext(metadata, item.payload);
      break;
    case 'event_msg':
      applyEvent(metadata, item.payload);
      break;
    default:
      break;
  }
  if (metadata.modelProvider === '') metadata.modelProvider = defaultProvider;
}

/** Returns a copy of `metadata` with `items` applied in order (for live metadata sync). */
export function applyRolloutItems(
  metadata: ThreadMetadata,
  items: Iterable<RolloutItem>,
  defaultProvider: string,
): ThreadMetadata {
  const next: ThreadMetadata = { ...metadata };
  for (const item of items) applyRolloutItemInPlace(next, item, defaultProvider);
  return next;
}

/** Builder start from a thread's own `session_meta` (id, created time, source). */
export function metadataFromSessionMeta(
  meta: SessionMetaLine,
  rolloutPath: string,
  defaultProvider: string,
): ThreadMetadata | null {
  const id = toThreadId(meta.id);
  if (id === null) return null;
  const createdAtMs = parseSessionTimestampMs(meta.timestamp) ?? 0;
  const metadata = defaultThreadMetadata(
    id,
    rolloutPath,
    createdAtMs,
    encodeSessionSource(meta.source),
    defaultProvider,
  );
  applySessionMeta(metadata, meta);
  if (metadata.modelProvider === '') metadata.modelProvider = defaultProvider;
  return metadata;
}

/**
 * Options of metadata extraction: the provider of threads that name none, and whether the file is
 * archived.
 */
export interface ExtractMetadataOptions {
  /** Absolute rollout path recorded in the metadata. */
  rolloutPath: string;
  /** Provider used when the rollout names none. */
  defaultProvider: string;
  /** Used when no `session_meta` is present: id and created time from the file name. */
  fallback?: { threadId: ThreadId; createdAtMs: number } | null;
}

/** Thread metadata extracted from rollout items, and whether a `session_meta` was seen. */
export interface ExtractedThreadMetadata {
  metadata: ThreadMetadata;
  /** `memory_mode` of the last `session_meta` that has one (null = none recorded). */
  memoryMode: string | null;
  /** The own `session_meta`'s `history_base` (0.169 fork by reference), if any. */
  historyBase: HistoryBase | null;
  /** Whether a `session_meta` was found at all. */
  hasSessionMeta: boolean;
}

/**
 * Builds a thread's metadata from its items (§5.6): the builder starts from the first
 * `session_meta` (else from `fallback`), then every item is applied in order. Null when there
 * is neither. `updatedAtMs` is left at `createdAtMs`; callers set it (file mtime, or now).
 */
export function extractThreadMetadata(
  items: Iterable<RolloutItem>,
  options: ExtractMetadataOptions,
): ExtractedThreadMetadata | null {
  const extractor = new MetadataExtractor(options);
  for (const item of items) extractor.push(item);
  return extractor.finish();
}

/** Incremental form of `extractThreadMetadata` (items can be pushed while streaming). */
export class MetadataExtractor {
  #metadata: ThreadMetadata | null = null;
  #pending: RolloutItem[] = [];
  #memoryMode: string | null = null;
  #historyBase: HistoryBase | null = null;
  #hasSessionMeta = false;

  constructor(private readonly options: ExtractMetadataOptions) {}

  /** The metadata built so far (null until the first `session_meta`). Do not mutate. */
  get current(): Readonly<ThreadMetadata> | null {
    return this.#metadata;
  }

  push(item: RolloutItem): void {
    if (item.type === 'session_meta') {
      if (typeof item.payload.memory_mode === 'string') this.#memoryMode = item.payload.memory_mode;
      if (!this.#hasSessionMeta) {
        const start = metadataFromSessionMeta(
          item.payload,
          this.options.rolloutPath,
          this.options.defaultProvider,
        );
        if (start !== null) {
          this.#hasSessionMeta = true;
          this.#historyBase = item.payload.history_base ?? null;
          this.#metadata = start;
          // Items seen before the meta (rare) are applied after it, in order.
          for (const earlier of this.#pending) this.#apply(earlier);
          this.#pending = [];
        }
      }
    }
    if (this.#metadata === null) {
      this.#pending.push(item);
      return;
    }
    this.#apply(item);
  }

  /**
   * `push` for a `token_count` item whose `eventTokensUsed` the caller already has (the fast
   * scan reads it to pick the last valid one): the same effect without validating it twice.
   */
  pushTokenCount(item: RolloutItem, tokensUsed: number): void {
    if (this.#metadata === null) {
      this.#pending.push(item);
      return;
    }
    this.#metadata.tokensUsed = tokensUsed;
    if (this.#metadata.modelProvider === '') {
      this.#metadata.modelProvider = this.options.defaultProvider;
    }
  }

  #apply(item: RolloutItem): void {
    if (this.#metadata !== null) {
      applyRolloutItemInPlace(this.#metadata, item, this.options.defaultProvider);
    }
  }

  /** The result; `fallback` (default: the one given at construction) applies without meta. */
  finish(
    fallback: ExtractMetadataOptions['fallback'] = this.options.fallback,
  ): ExtractedThreadMetadata | null {
    if (this.#metadata === null) {
      if (fallback === undefined || fallback === null) return null;
      this.#metadata = defaultThreadMetadata(
        fallback.threadId,
        this.options.rolloutPath,
        fallback.createdAtMs,
        DEFAULT_SESSION_SOURCE,
        this.options.defaultProvider,
      );
      for (const item of this.#pending) this.#apply(item);
      this.#pending = [];
    }
    return {
      metadata: this.#metadata,
      memoryMode: this.#memoryMode,
      historyBase: this.#historyBase,
      hasSessionMeta: this.#hasSessionMeta,
    };
  }
}
