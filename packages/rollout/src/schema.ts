import * as z from 'zod';

/*
 * The on-disk rollout format (spec rollout-state §2). Every schema is loose: unknown fields are
 * kept, and nothing is defaulted or transformed, so a validated payload is still the exact JSON
 * object read from disk (key order included) and can be written back byte for byte.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

/**
 * A `session_meta.source` as the disk may hold it: a bare string for unit variants (`"cli"`), an
 * object for data variants; tolerant, so a source this version does not know is kept as written.
 * Its checked form is `SessionSource` of `@skein/protocol`.
 */
export const SessionSourceSchema = z.union([z.string(), z.record(z.string(), z.unknown())]);
export type { SessionSource, SessionSourceJson } from '@skein/protocol';

/** Zod schema of a `session_meta`'s git facts (commit, branch, repository URL). */
export const GitInfoSchema = z.looseObject({
  commit_hash: nullish(z.string()),
  branch: nullish(z.string()),
  repository_url: nullish(z.string()),
});
/** A `session_meta`'s git facts, as written in the rollout. */
export type GitInfo = z.infer<typeof GitInfoSchema>;

/** Zod schema of a `session_meta`'s base instructions (`{text}`). */
export const BaseInstructionsSchema = z.looseObject({ text: z.string() });

/** Zod schema of a dynamic tool spec in a `session_meta` (name, description, input schema). */
export const DynamicToolSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.unknown().optional(),
  defer_loading: z.boolean().optional(),
  namespace: nullish(z.string()),
});
/** A dynamic tool spec recorded in a `session_meta`. */
export type DynamicTool = z.infer<typeof DynamicToolSchema>;

/** 0.169 fork-by-reference: the fork's history starts with the base thread's first lines. */
export const HistoryBaseSchema = z.looseObject({
  thread_id: z.string(),
  end_ordinal_exclusive: z.number().optional(),
  end_byte_offset: z.number().optional(),
});
/**
 * Where a Codex 0.169 fork by reference starts: its source thread and the end (ordinal and byte
 * offset) of the inherited history.
 */
export type HistoryBase = z.infer<typeof HistoryBaseSchema>;

/** Payload of `session_meta`: `SessionMeta` flattened with an optional `git` sibling (§2.3). */
export const SessionMetaLineSchema = z.looseObject({
  id: z.string(),
  session_id: z.string().optional(),
  forked_from_id: nullish(z.string()),
  parent_thread_id: nullish(z.string()),
  timestamp: z.string(),
  cwd: z.string(),
  originator: z.string().optional(),
  cli_version: z.string().optional(),
  source: SessionSourceSchema.optional(),
  thread_source: nullish(z.string()),
  agent_nickname: nullish(z.string()),
  agent_role: nullish(z.string()),
  /** Older spelling of `agent_role`, accepted on read. */
  agent_type: nullish(z.string()),
  agent_path: nullish(z.string()),
  model_provider: nullish(z.string()),
  base_instructions: nullish(BaseInstructionsSchema),
  dynamic_tools: nullish(z.array(DynamicToolSchema)),
  memory_mode: nullish(z.string()),
  history_mode: nullish(z.string()),
  history_base: nullish(HistoryBaseSchema),
  git: nullish(GitInfoSchema),
});
/**
 * The payload of a `session_meta` line: id, time, cwd, originator, CLI version, source, provider,
 * lineage, history mode and the rest Codex records.
 */
export type SessionMetaLine = z.infer<typeof SessionMetaLineSchema>;

/** Payload of `turn_context` (§2.4). Written once per user turn; the latest wins. */
export const TurnContextItemSchema = z.looseObject({
  turn_id: nullish(z.string()),
  cwd: z.string(),
  approval_policy: z.unknown().optional(),
  sandbox_policy: z.unknown().optional(),
  permission_profile: z.unknown().optional(),
  model: z.string(),
  effort: nullish(z.string()),
  summary: z.unknown().optional(),
});
/** The payload of a `turn_context` line: a turn's cwd, model, policies and settings. */
export type TurnContextItem = z.infer<typeof TurnContextItemSchema>;

/** A model-visible item (`message`, `function_call`, `reasoning`, ...), kept as read. */
export const ResponseItemSchema = z.looseObject({ type: z.string() });
/**
 * The payload of a `response_item` line: a model-visible item (`message`, `function_call`,
 * `reasoning`, …), kept loose.
 */
export type ResponseItem = z.infer<typeof ResponseItemSchema>;

/** Zod schema of a `compacted` line's payload (the summary that replaced compacted history). */
export const CompactedItemSchema = z.looseObject({
  message: z.string(),
  replacement_history: nullish(z.array(z.unknown())),
});
/** The payload of a `compacted` line. */
export type CompactedItem = z.infer<typeof CompactedItemSchema>;

/**
 * Payload of `event_msg`: internally tagged by `type`. Validated only as "an object with a
 * string `type`" so that an event kind this version does not know is kept, never dropped;
 * typed views of the events Skein reads are below (`parseEventMsg`).
 */
export const EventMsgSchema = z.looseObject({ type: z.string() });
/**
 * The payload of an `event_msg` line: an event with a string `type` (`user_message`,
 * `task_started`, `item_completed`, …), kept loose.
 */
export type EventMsg = z.infer<typeof EventMsgSchema>;

/** Payloads of the newer line kinds that Skein keeps but does not interpret. */
export const LooseObjectSchema = z.looseObject({});
/** An object payload with its keys kept as written. */
export type LooseObject = z.infer<typeof LooseObjectSchema>;

// ---- Typed events (the ones metadata, previews and history need) ----

/** Zod schema of an `event_msg` `user_message` (the legacy display form of a user message). */
export const UserMessageEventSchema = z.looseObject({
  type: z.literal('user_message'),
  message: z.string(),
  images: nullish(z.array(z.unknown())),
  local_images: nullish(z.array(z.unknown())),
  text_elements: nullish(z.array(z.unknown())),
});
/**
 * Zod schema of an `event_msg` `agent_message` (the legacy display form of an assistant message).
 */
export const AgentMessageEventSchema = z.looseObject({
  type: z.literal('agent_message'),
  message: z.string(),
});
/** Zod schema of Codex's token counts (input, cached input, output, reasoning output, total). */
export const TokenUsageSchema = z.looseObject({
  input_tokens: z.number().optional(),
  cached_input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  reasoning_output_tokens: z.number().optional(),
  total_tokens: z.number(),
});
/** Codex's token counts. */
export type TokenUsage = z.infer<typeof TokenUsageSchema>;
/** Zod schema of an `event_msg` `token_count` (total and last token usage, context window). */
export const TokenCountEventSchema = z.looseObject({
  type: z.literal('token_count'),
  info: nullish(
    z.looseObject({
      total_token_usage: TokenUsageSchema,
      last_token_usage: TokenUsageSchema.optional(),
      model_context_window: nullish(z.number()),
    }),
  ),
});
/** `EventMsg::TurnStarted` is written as `task_started`; `turn_started` is accepted on read. */
export const TaskStartedEventSchema = z.looseObject({
  type: z.enum(['task_started', 'turn_started']),
  turn_id: nullish(z.string()),
  started_at: nullish(z.number()),
  model_context_window: nullish(z.number()),
});
/** `EventMsg::TurnComplete` is written as `task_complete`; `turn_complete` is accepted on read. */
export const TaskCompleteEventSchema = z.looseObject({
  type: z.enum(['task_complete', 'turn_complete']),
  turn_id: nullish(z.string()),
  last_agent_message: nullish(z.string()),
  completed_at: nullish(z.number()),
  duration_ms: nullish(z.number()),
});
/** Zod schema of an `event_msg` `thread_name_updated`. */
export const ThreadNameUpdatedEventSchema = z.looseObject({
  type: z.literal('thread_name_updated'),
  thread_id: z.string().optional(),
  thread_name: nullish(z.string()),
});
/** Zod schema of an `event_msg` `thread_goal_updated`. */
export const ThreadGoalUpdatedEventSchema = z.looseObject({
  type: z.literal('thread_goal_updated'),
  goal: z.looseObject({ objective: z.string() }),
});
/** A `TurnItem` inside 0.169's `item_completed` (PascalCase tags: `UserMessage`, `AgentMessage`). */
export const TurnItemSchema = z.looseObject({
  type: z.string(),
  id: z.string().optional(),
  content: z.array(z.looseObject({ type: z.string() })).optional(),
});
/**
 * An item of a Codex 0.169 `item_completed` event (`UserMessage`, `AgentMessage`, …), kept loose.
 */
export type TurnItem = z.infer<typeof TurnItemSchema>;
/**
 * Zod schema of an `event_msg` `item_completed` (Codex 0.169's display items, with their thread
 * and turn).
 */
export const ItemCompletedEventSchema = z.looseObject({
  type: z.literal('item_completed'),
  thread_id: z.string().optional(),
  turn_id: nullish(z.string()),
  item: TurnItemSchema,
});

/** An `event_msg` `user_message` payload. */
export type UserMessageEvent = z.infer<typeof UserMessageEventSchema>;
/** An `event_msg` `agent_message` payload. */
export type AgentMessageEvent = z.infer<typeof AgentMessageEventSchema>;
/** An `event_msg` `token_count` payload. */
export type TokenCountEvent = z.infer<typeof TokenCountEventSchema>;
/** An `event_msg` `task_started` payload (a turn opens). */
export type TaskStartedEvent = z.infer<typeof TaskStartedEventSchema>;
/** An `event_msg` `task_complete` payload (a turn ends, with its last agent message). */
export type TaskCompleteEvent = z.infer<typeof TaskCompleteEventSchema>;
/** An `event_msg` `thread_name_updated` payload. */
export type ThreadNameUpdatedEvent = z.infer<typeof ThreadNameUpdatedEventSchema>;
/** An `event_msg` `thread_goal_updated` payload. */
export type ThreadGoalUpdatedEvent = z.infer<typeof ThreadGoalUpdatedEventSchema>;
/** An `event_msg` `item_completed` payload. */
export type ItemCompletedEvent = z.infer<typeof ItemCompletedEventSchema>;

/**
 * The events Skein reads by type, as a discriminated union (`parseEventMsg` returns one, or null).
 */
export type KnownEventMsg =
  | UserMessageEvent
  | AgentMessageEvent
  | TokenCountEvent
  | TaskStartedEvent
  | TaskCompleteEvent
  | ThreadNameUpdatedEvent
  | ThreadGoalUpdatedEvent
  | ItemCompletedEvent;

const EVENT_SCHEMAS: Record<string, z.ZodType<KnownEventMsg>> = {
  user_message: UserMessageEventSchema,
  agent_message: AgentMessageEventSchema,
  token_count: TokenCountEventSchema,
  task_started: TaskStartedEventSchema,
  turn_started: TaskStartedEventSchema,
  task_complete: TaskCompleteEventSchema,
  turn_complete: TaskCompleteEventSchema,
  thread_name_updated: ThreadNameUpdatedEventSchema,
  thread_goal_updated: ThreadGoalUpdatedEventSchema,
  item_completed: ItemCompletedEventSchema,
};

/**
 * A typed view of an event Skein interprets, or `null` for other kinds (and for a known kind
 * whose payload does not have the expected shape). Never throws.
 */
export function parseEventMsg(event: EventMsg): KnownEventMsg | null {
  const schema = EVENT_SCHEMAS[event.type];
  if (schema === undefined) return null;
  const parsed = schema.safeParse(event);
  return parsed.success ? (event as KnownEventMsg) : null;
}

// ---- Items and lines ----

/** Item kinds this version understands; any other `type` becomes an `OpaqueRolloutItem`. */
export const ROLLOUT_ITEM_KINDS = [
  'session_meta',
  'response_item',
  'compacted',
  'turn_context',
  'event_msg',
  'inter_agent_communication',
  'inter_agent_communication_metadata',
  'world_state',
  'token_usage_record',
] as const;
/** A rollout line kind this version knows (`session_meta`, `response_item`, `event_msg`, …). */
export type RolloutItemKind = (typeof ROLLOUT_ITEM_KINDS)[number];

/** The payload schema of each known line kind, used when parsing a line. */
export const ROLLOUT_PAYLOAD_SCHEMAS = {
  session_meta: SessionMetaLineSchema,
  response_item: ResponseItemSchema,
  compacted: CompactedItemSchema,
  turn_context: TurnContextItemSchema,
  event_msg: EventMsgSchema,
  inter_agent_communication: LooseObjectSchema,
  inter_agent_communication_metadata: LooseObjectSchema,
  world_state: LooseObjectSchema,
  token_usage_record: LooseObjectSchema,
} as const satisfies Record<RolloutItemKind, z.ZodType>;

/** A `session_meta` item. */
export type SessionMetaItem = { type: 'session_meta'; payload: SessionMetaLine };
/** A `response_item` item. */
export type ResponseItemItem = { type: 'response_item'; payload: ResponseItem };
/** A `compacted` item. */
export type CompactedRolloutItem = { type: 'compacted'; payload: CompactedItem };
/** A `turn_context` item. */
export type TurnContextRolloutItem = { type: 'turn_context'; payload: TurnContextItem };
/** An `event_msg` item. */
export type EventMsgItem = { type: 'event_msg'; payload: EventMsg };
/**
 * An item of a known kind whose payload Skein keeps without reading it (0.169's `world_state`,
 * `token_usage_record`, inter-agent lines).
 */
export type LooseRolloutItem = {
  type:
    | 'inter_agent_communication'
    | 'inter_agent_communication_metadata'
    | 'world_state'
    | 'token_usage_record';
  payload: LooseObject;
};
/** A line kind this version does not know: kept as read (never thrown, never dropped). */
export type OpaqueRolloutItem = { type: 'opaque'; kind: string; payload: unknown };

/**
 * One rollout item: `{type, payload}` with the snake_case kind as tag; kinds this version does not
 * know are `{type: 'opaque', kind, payload}` (kept, never an error).
 */
export type RolloutItem =
  | SessionMetaItem
  | ResponseItemItem
  | CompactedRolloutItem
  | TurnContextRolloutItem
  | EventMsgItem
  | LooseRolloutItem
  | OpaqueRolloutItem;

/** One line of a rollout file: the envelope plus its item. */
export type RolloutLine = RolloutItem & {
  /** UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` when Skein writes it; any string on read. */
  timestamp: string;
  /** 0.169 paginated files only. */
  ordinal?: number;
  /** 0.169's extra top-level sibling on some `response_item` lines. */
  metadata?: unknown;
};

/**
 * Zod schema of a rollout line's envelope: timestamp, ordinal (0.169 paginated files), type and
 * payload.
 */
export const RolloutEnvelopeSchema = z.looseObject({
  timestamp: z.string(),
  ordinal: z.number().int().nonnegative().optional(),
  type: z.string(),
  payload: z.unknown(),
  metadata: z.unknown().optional(),
});

/**
 * The `session_meta.history_mode` values this version reads; another is a hard error (the file's
 * format is unknown).
 */
export const KNOWN_HISTORY_MODES = ['legacy', 'paginated'] as const;

/** Whether `kind` is a line kind this version knows. */
export function isKnownItemKind(kind: string): kind is RolloutItemKind {
  return Object.hasOwn(ROLLOUT_PAYLOAD_SCHEMAS, kind);
}

/**
 * The result of parsing one line: the line, or why it was skipped (bad JSON, bad envelope, bad
 * payload).
 */
export type LineParseResult =
  | { ok: true; line: RolloutLine }
  | { ok: false; reason: 'json' | 'envelope' | 'payload' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Kinds whose payload schema is only "an object with a string `type`". */
const TYPED_OBJECT_KINDS: ReadonlySet<string> = new Set(['response_item', 'event_msg']);
/** Kinds whose payload schema is only "an object". */
const PLAIN_OBJECT_KINDS: ReadonlySet<string> = new Set([
  'inter_agent_communication',
  'inter_agent_communication_metadata',
  'world_state',
  'token_usage_record',
]);

/**
 * Validates an already JSON-parsed line. Unknown kinds come back as opaque items.
 *
 * The envelope and the trivially shaped payloads (`response_item`, `event_msg`, the loose
 * kinds) are checked by hand with exactly the rules of `RolloutEnvelopeSchema` and their zod
 * schemas: this runs for every line of every rollout during backfill and listing, where a zod
 * pass per line costs more than the JSON parse. Richer payloads go through zod.
 */
export function rolloutLineFromJson(value: unknown): LineParseResult {
  if (!isPlainObject(value)) return { ok: false, reason: 'envelope' };
  const { timestamp, ordinal, type, payload, metadata } = value;
  if (typeof timestamp !== 'string' || typeof type !== 'string' || !('payload' in value)) {
    return { ok: false, reason: 'envelope' };
  }
  if (ordinal !== undefined && !(Number.isInteger(ordinal) && (ordinal as number) >= 0)) {
    return { ok: false, reason: 'envelope' };
  }
  if (!isKnownItemKind(type)) {
    const opaque: RolloutLine = { timestamp, type: 'opaque', kind: type, payload };
    if (ordinal !== undefined) opaque.ordinal = ordinal as number;
    if (metadata !== undefined) opaque.metadata = metadata;
    return { ok: true, line: opaque };
  }
  let valid: boolean;
  if (TYPED_OBJECT_KINDS.has(type)) {
    valid = isPlainObject(payload) && typeof payload.type === 'string';
  } else if (PLAIN_OBJECT_KINDS.has(type)) {
    valid = isPlainObject(payload);
  } else {
    valid = ROLLOUT_PAYLOAD_SCHEMAS[type].safeParse(payload).success;
  }
  if (!valid) return { ok: false, reason: 'payload' };
  // One object literal (no spreads): this runs for every parsed line.
  const line = { timestamp, type, payload } as RolloutLine;
  if (ordinal !== undefined) line.ordinal = ordinal as number;
  if (metadata !== undefined) line.metadata = metadata;
  return { ok: true, line };
}

/** Parses one line of text (no trailing newline). */
export function parseRolloutLine(text: string): LineParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'json' };
  }
  return rolloutLineFromJson(value);
}

/** The on-disk `type` of an item (an opaque item keeps its original kind). */
export function itemDiskType(item: RolloutItem): string {
  return item.type === 'opaque' ? item.kind : item.type;
}

/**
 * One line in the exact legacy format: compact JSON, keys `timestamp`, (`ordinal`), `type`,
 * `payload`, (`metadata`), no trailing newline.
 */
export function serializeRolloutLine(line: RolloutLine): string {
  const out: Record<string, unknown> = { timestamp: line.timestamp };
  if (line.ordinal !== undefined) out.ordinal = line.ordinal;
  out.type = itemDiskType(line);
  out.payload = line.payload;
  if (line.metadata !== undefined) out.metadata = line.metadata;
  return JSON.stringify(out);
}

/**
 * `serializeRolloutLine` of an item stamped with a timestamp (and an ordinal), without building
 * the line object first: the writer's hot path. `quotedTimestamp` is `JSON.stringify(timestamp)`
 * (one per batch). The same bytes as `serializeRolloutLine({ ...item, timestamp, ordinal })`.
 */
export function serializeStampedItem(
  item: RolloutItem,
  quotedTimestamp: string,
  ordinal: number | null,
): string {
  const extra = item as { ordinal?: unknown; metadata?: unknown };
  const lineOrdinal = ordinal ?? extra.ordinal;
  let text = `{"timestamp":${quotedTimestamp}`;
  const quotedOrdinal = lineOrdinal === undefined ? undefined : JSON.stringify(lineOrdinal);
  if (quotedOrdinal !== undefined) text += `,"ordinal":${quotedOrdinal}`;
  text += `,"type":${JSON.stringify(itemDiskType(item))}`;
  const payload = JSON.stringify(item.payload);
  if (payload !== undefined) text += `,"payload":${payload}`;
  if (extra.metadata !== undefined) {
    const metadata = JSON.stringify(extra.metadata);
    if (metadata !== undefined) text += `,"metadata":${metadata}`;
  }
  return `${text}}`;
}

/** The writer's timestamp format: UTC with exactly three fraction digits. */
export function formatRolloutTimestamp(date: Date): string {
  return date.toISOString();
}
