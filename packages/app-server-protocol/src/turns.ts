/**
 * Rebuilds the wire `Turn`s of a thread from its rollout items (spec §2.4, §2.13, §3).
 *
 * Two on-disk shapes are read: the legacy one (`task_started` / `user_message` /
 * `agent_message` / `task_complete` events, items numbered `item-1`, `item-2`, ... across the
 * thread) and 0.169's paginated one (`item_completed` events carrying `UserMessage` /
 * `AgentMessage` items with their own ids and times, every line with an `ordinal`).
 * Where turns start and end is `segmentTurns` of @skein/protocol, the store's rule too; paging
 * the built turns with 0.169's wire cursors is turn-pages.ts.
 */
import { segmentTurns, type TurnSegment, type TurnStatus } from '@skein/protocol';
import type { TurnItemsView } from './vocabulary.js';

/** One rollout item as the store hands it out; `ordinal` is present on paginated lines. */
export interface HistoryItem {
  readonly type: string;
  readonly payload: unknown;
  readonly ordinal?: number | undefined;
}

export type { TurnStatus };

/** One part of a user message's content on the wire (text with its elements, an image, …). */
export interface WireUserInput {
  type: string;
  [key: string]: unknown;
}

/** Last known state of an agent a collab tool call targeted (`agentsStates` values). */
export interface WireCollabAgentState {
  status: string;
  message: string | null;
}

/** A turn item on the wire (`userMessage`, `agentMessage`, `reasoning`, tool calls, …). */
export type WireThreadItem =
  | {
      type: 'reasoning';
      id: string;
      summary: string[];
      content: string[];
      startedAtMs: number | null;
      completedAtMs: number | null;
    }
  | {
      type: 'collabAgentToolCall';
      id: string;
      tool: string;
      status: string;
      senderThreadId: string;
      receiverThreadIds: string[];
      prompt: string | null;
      model: string | null;
      reasoningEffort: string | null;
      agentsStates: Record<string, WireCollabAgentState>;
      startedAtMs: number | null;
      completedAtMs: number | null;
    }
  | {
      type: 'userMessage';
      id: string;
      clientId: string | null;
      content: WireUserInput[];
      startedAtMs: number | null;
      completedAtMs: number | null;
    }
  | {
      type: 'agentMessage';
      moderation: null;
      id: string;
      text: string;
      phase: string | null;
      memoryCitation: unknown;
      delivery: null;
      questions: null;
      startedAtMs: number | null;
      completedAtMs: number | null;
    };

/** Why a turn failed, on the wire. */
export interface WireTurnError {
  message: string;
  codexErrorInfo: unknown;
  additionalDetails: string | null;
}

/** A turn on the wire: id, items (per the view), status, error and times. */
export interface WireTurn {
  id: string;
  rootTurnId: string | null;
  items: WireThreadItem[];
  itemsView: TurnItemsView;
  status: TurnStatus;
  error: WireTurnError | null;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
}

/** A rebuilt turn plus the rollout ordinals the cursors of paginated threads anchor on. */
export interface BuiltTurn {
  turn: WireTurn;
  /** Ordinal (or item index) of the line that opened the turn. */
  startOrdinal: number;
  /** Ordinal of the line that recorded each of `turn.items` (same order). */
  itemOrdinals: number[];
}

/**
 * Turns rebuilt from a history, with where each came from (for cursors), and whether the history
 * is paginated.
 */
export interface BuiltHistory {
  turns: BuiltTurn[];
  /** Ordinal of the last item line (`item_completed`), for `itemsBackwardsCursor`. */
  lastItemOrdinal: number | null;
  paginated: boolean;
}

type Json = Record<string, unknown>;

/** The value as a JSON object, or null when it is not one (an array, a scalar, null). */
export function asRecord(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : null;
}

function stringOr<T>(value: unknown, fallback: T): string | T {
  return typeof value === 'string' ? value : fallback;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Legacy `user_message` payload → wire `UserInput[]`. */
function legacyUserContent(payload: Json): WireUserInput[] {
  const content: WireUserInput[] = [];
  const text = stringOr(payload.message, '');
  const elements = Array.isArray(payload.text_elements) ? payload.text_elements : [];
  if (text !== '' || elements.length > 0) {
    content.push({ type: 'text', text, text_elements: elements });
  }
  for (const url of Array.isArray(payload.images) ? payload.images : []) {
    if (typeof url === 'string') content.push({ type: 'image', url, detail: null });
  }
  for (const path of Array.isArray(payload.local_images) ? payload.local_images : []) {
    if (typeof path === 'string') content.push({ type: 'localImage', path, detail: null });
  }
  return content;
}

/** Paginated `UserMessage.content` → wire `UserInput[]` (already in wire casing). */
function paginatedUserContent(item: Json): WireUserInput[] {
  const content: WireUserInput[] = [];
  for (const entry of Array.isArray(item.content) ? item.content : []) {
    const record = asRecord(entry);
    if (record === null || typeof record.type !== 'string') continue;
    if (record.type === 'text') {
      content.push({
        type: 'text',
        text: stringOr(record.text, ''),
        text_elements: Array.isArray(record.text_elements) ? record.text_elements : [],
      });
    } else {
      content.push({ ...record, type: record.type });
    }
  }
  return content;
}

function agentText(item: Json): string {
  const parts: string[] = [];
  for (const entry of Array.isArray(item.content) ? item.content : []) {
    const record = asRecord(entry);
    if (record !== null && typeof record.text === 'string') parts.push(record.text);
  }
  return parts.join('');
}

function agentItem(
  id: string,
  text: string,
  phase: unknown,
  memoryCitation: unknown,
  startedAtMs: number | null,
  completedAtMs: number | null,
): WireThreadItem {
  return {
    type: 'agentMessage',
    moderation: null,
    id,
    text,
    phase: typeof phase === 'string' ? phase : null,
    memoryCitation: memoryCitation ?? null,
    delivery: null,
    questions: null,
    startedAtMs,
    completedAtMs,
  };
}

/** `spawn_agent`, `pending_init` → `spawnAgent`, `pendingInit` (the wire spells enums so). */
function camel(text: string): string {
  return text.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** An `agents_states` value: a bare status, or `{status: message}` for states with a message. */
function collabAgentState(value: unknown): WireCollabAgentState {
  if (typeof value === 'string') return { status: camel(value), message: null };
  const record = asRecord(value);
  const [status, message] = Object.entries(record ?? {})[0] ?? ['notFound', null];
  return { status: camel(status), message: typeof message === 'string' ? message : null };
}

/** A recorded `CollabAgentToolCall` item (a sub-agent spawn, message, wait, ...). */
function collabItem(
  item: Json,
  startedAtMs: number | null,
  completedAtMs: number | null,
): WireThreadItem {
  const states: Record<string, WireCollabAgentState> = {};
  for (const [threadId, state] of Object.entries(asRecord(item.agents_states) ?? {})) {
    states[threadId] = collabAgentState(state);
  }
  const receivers = Array.isArray(item.receiver_thread_ids) ? item.receiver_thread_ids : [];
  return {
    type: 'collabAgentToolCall',
    id: stringOr(item.id, ''),
    tool: camel(stringOr(item.tool, '')),
    status: camel(stringOr(item.status, 'completed')),
    senderThreadId: stringOr(item.sender_thread_id, ''),
    receiverThreadIds: receivers.filter((id): id is string => typeof id === 'string'),
    prompt: stringOr(item.prompt, null),
    model: stringOr(item.model, null),
    reasoningEffort: stringOr(item.reasoning_effort, null),
    agentsStates: states,
    startedAtMs,
    completedAtMs,
  };
}

/** Legacy reasoning events and the part of a `reasoning` item their text goes to. */
const REASONING_FIELDS: Readonly<Record<string, 'summary' | 'content'>> = {
  agent_reasoning: 'summary',
  agent_reasoning_raw_content: 'content',
};

/**
 * Rebuilds the wire turns of a history: where turns start and end, their ids and statuses come
 * from `segmentTurns` (@skein/protocol, shared with the store's `listTurns`); this adds the wire
 * items. `running` = the thread has a live, active turn (its in-progress turn stays
 * `inProgress`); otherwise a turn left open is reported `interrupted`.
 */
export function buildTurns(items: readonly HistoryItem[], running = false): BuiltHistory {
  const segmentation = segmentTurns(items);
  const { paginated } = segmentation;
  const built = new Map<TurnSegment, BuiltTurn>();
  const turns = segmentation.turns.map((segment): BuiltTurn => {
    const turn: BuiltTurn = {
      turn: {
        id: segment.turnId,
        rootTurnId: segment.rootTurnId,
        items: [],
        itemsView: 'full',
        status: segment.status,
        error: null,
        startedAt: segment.startedAt,
        completedAt: segment.completedAt,
        durationMs: segment.durationMs,
      },
      startOrdinal: segment.startOrdinal,
      itemOrdinals: [],
    };
    built.set(segment, turn);
    return turn;
  });
  // Legacy items are numbered across the turns a rollback left (0.169 numbers them so).
  let legacyItemCounter = 0;
  let lastItemOrdinal: number | null = null;

  items.forEach((item, index) => {
    const segment = segmentation.turnOfRecord[index];
    const target = segment == null ? undefined : built.get(segment);
    if (target === undefined || item.type !== 'event_msg') return;
    const ordinal = item.ordinal ?? index;
    const payload = asRecord(item.payload);
    if (payload === null) return;
    if (!paginated && payload.type === 'user_message') {
      legacyItemCounter += 1;
      target.itemOrdinals.push(ordinal);
      target.turn.items.push({
        type: 'userMessage',
        id: `item-${legacyItemCounter}`,
        clientId: null,
        content: legacyUserContent(payload),
        startedAtMs: null,
        completedAtMs: null,
      });
    } else if (!paginated && payload.type === 'agent_message') {
      const text = stringOr(payload.message, '');
      if (text === '') return;
      legacyItemCounter += 1;
      target.itemOrdinals.push(ordinal);
      target.turn.items.push(
        agentItem(
          `item-${legacyItemCounter}`,
          text,
          payload.phase,
          payload.memory_citation,
          null,
          null,
        ),
      );
    } else if (!paginated && REASONING_FIELDS[String(payload.type)] !== undefined) {
      const text = stringOr(payload.text, '');
      if (text === '') return;
      // Reasoning text joins the turn's last item when that is reasoning too (0.169 does so).
      const field = REASONING_FIELDS[String(payload.type)] as 'summary' | 'content';
      const last = target.turn.items.at(-1);
      if (last?.type === 'reasoning') {
        last[field].push(text);
        return;
      }
      legacyItemCounter += 1;
      target.itemOrdinals.push(ordinal);
      target.turn.items.push({
        type: 'reasoning',
        id: `item-${legacyItemCounter}`,
        summary: field === 'summary' ? [text] : [],
        content: field === 'content' ? [text] : [],
        startedAtMs: null,
        completedAtMs: null,
      });
    } else if (payload.type === 'item_completed') {
      const wire = completedItem(payload);
      if (wire === null) return;
      target.itemOrdinals.push(ordinal);
      target.turn.items.push(wire);
      lastItemOrdinal = ordinal;
    }
  });

  if (!running) {
    for (const { turn } of turns) if (turn.status === 'inProgress') turn.status = 'interrupted';
  }
  return { turns, lastItemOrdinal, paginated };
}

/** The wire item of an `item_completed` event (user and agent messages, collab tool calls). */
function completedItem(payload: Json): WireThreadItem | null {
  const item = asRecord(payload.item);
  if (item === null) return null;
  const startedAtMs = numberOr(payload.started_at_ms, null);
  const completedAtMs = numberOr(payload.completed_at_ms, null);
  if (item.type === 'UserMessage') {
    return {
      type: 'userMessage',
      id: stringOr(item.id, ''),
      clientId: stringOr(item.client_id, null),
      content: paginatedUserContent(item),
      startedAtMs,
      completedAtMs,
    };
  }
  if (item.type === 'AgentMessage') {
    return agentItem(
      stringOr(item.id, ''),
      agentText(item),
      item.phase,
      item.memory_citation ?? null,
      startedAtMs,
      completedAtMs,
    );
  }
  if (item.type === 'CollabAgentToolCall') return collabItem(item, startedAtMs, completedAtMs);
  return null;
}

/** Applies an items view to a full turn: none, summary (first user + last agent), or all. */
export function viewTurn(turn: WireTurn, view: TurnItemsView): WireTurn {
  if (view === 'full') return { ...turn, itemsView: 'full' };
  if (view === 'notLoaded') return { ...turn, items: [], itemsView: 'notLoaded' };
  const firstUser = turn.items.find((item) => item.type === 'userMessage');
  const lastAgent = [...turn.items].reverse().find((item) => item.type === 'agentMessage');
  const items: WireThreadItem[] = [];
  if (firstUser !== undefined) items.push(firstUser);
  if (lastAgent !== undefined) items.push(lastAgent);
  return { ...turn, items, itemsView: 'summary' };
}
