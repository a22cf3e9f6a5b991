/**
 * Rebuilds the wire `Turn`s of a thread from its rollout items (spec §2.4, §2.13, §3).
 *
 * Two on-disk shapes are read: the legacy one (`task_started` / `user_message` /
 * `agent_message` / `task_complete` events, items numbered `item-1`, `item-2`, ... across the
 * thread) and 0.169's paginated one (`item_completed` events carrying `UserMessage` /
 * `AgentMessage` items with their own ids and times, every line with an `ordinal`).
 * Paging the built turns (`thread/turns/list` cursors) is in turn-pages.ts.
 */
import type { TurnItemsView } from './vocabulary.js';

/** One rollout item as the store hands it out; `ordinal` is present on paginated lines. */
export interface HistoryItem {
  readonly type: string;
  readonly payload: unknown;
  readonly ordinal?: number | undefined;
}

/** A turn's status on the wire. */
export type TurnStatus = 'completed' | 'interrupted' | 'failed' | 'inProgress';

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

/** True when the history was written in 0.169's paginated shape. */
function isPaginatedHistory(items: readonly HistoryItem[]): boolean {
  for (const item of items) {
    const payload = asRecord(item.payload);
    if (item.type === 'session_meta' && payload?.history_mode === 'paginated') return true;
    if (item.type === 'event_msg' && payload?.type === 'item_completed') return true;
  }
  return false;
}

/**
 * Groups rollout items into turns. `running` = the thread has a live, active turn (its
 * in-progress turn stays `inProgress`); otherwise a turn left open is reported `interrupted`.
 */
export function buildTurns(items: readonly HistoryItem[], running = false): BuiltHistory {
  const paginated = isPaginatedHistory(items);
  const turns: BuiltTurn[] = [];
  let current: BuiltTurn | null = null;
  let legacyItemCounter = 0;
  let implicitTurnCounter = 0;
  let lastItemOrdinal: number | null = null;

  const openTurn = (
    id: string,
    rootTurnId: string | null,
    startedAt: number | null,
    ordinal: number,
  ) => {
    current = {
      turn: {
        id,
        rootTurnId,
        items: [],
        itemsView: 'full',
        status: 'inProgress',
        error: null,
        startedAt,
        completedAt: null,
        durationMs: null,
      },
      startOrdinal: ordinal,
      itemOrdinals: [],
    };
    turns.push(current);
    return current;
  };
  const ensureTurn = (ordinal: number): BuiltTurn => {
    if (current !== null) return current;
    implicitTurnCounter += 1;
    return openTurn(`turn-${implicitTurnCounter}`, null, null, ordinal);
  };
  const findTurn = (turnId: unknown): BuiltTurn | null => {
    if (typeof turnId !== 'string') return current;
    if (current?.turn.id === turnId) return current;
    for (let i = turns.length - 1; i >= 0; i -= 1) {
      const candidate = turns[i];
      if (candidate?.turn.id === turnId) return candidate;
    }
    return current;
  };

  items.forEach((item, index) => {
    const ordinal = item.ordinal ?? index;
    if (item.type !== 'event_msg') return;
    const payload = asRecord(item.payload);
    if (payload === null) return;
    switch (payload.type) {
      case 'task_started':
      case 'turn_started': {
        const turnId = stringOr(payload.turn_id, null);
        if (turnId === null) return;
        openTurn(
          turnId,
          stringOr(payload.root_turn_id, null),
          numberOr(payload.started_at, null),
          ordinal,
        );
        return;
      }
      case 'task_complete':
      case 'turn_complete': {
        const target = findTurn(payload.turn_id);
        if (target === null) return;
        target.turn.status = target.turn.error === null ? 'completed' : 'failed';
        target.turn.completedAt = numberOr(payload.completed_at, target.turn.completedAt);
        target.turn.durationMs = numberOr(payload.duration_ms, target.turn.durationMs);
        if (target === current) current = null;
        return;
      }
      case 'turn_aborted': {
        const target = findTurn(payload.turn_id);
        if (target === null) return;
        target.turn.status = 'interrupted';
        target.turn.completedAt = numberOr(payload.completed_at, target.turn.completedAt);
        target.turn.durationMs = numberOr(payload.duration_ms, target.turn.durationMs);
        if (target === current) current = null;
        return;
      }
      case 'error': {
        const target = current;
        if (target === null) return;
        target.turn.status = 'failed';
        target.turn.error = {
          message: stringOr(payload.message, ''),
          codexErrorInfo: payload.codex_error_info ?? null,
          additionalDetails: null,
        };
        return;
      }
      case 'user_message': {
        if (paginated) return;
        // A user message outside an explicit turn (very old rollouts) opens an implicit one.
        const target = ensureTurn(ordinal);
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
        return;
      }
      case 'agent_message': {
        if (paginated) return;
        const target = ensureTurn(ordinal);
        legacyItemCounter += 1;
        target.itemOrdinals.push(ordinal);
        target.turn.items.push(
          agentItem(
            `item-${legacyItemCounter}`,
            stringOr(payload.message, ''),
            payload.phase,
            payload.memory_citation,
            null,
            null,
          ),
        );
        return;
      }
      case 'item_completed': {
        const item = asRecord(payload.item);
        if (item === null) return;
        const target = findTurn(payload.turn_id) ?? ensureTurn(ordinal);
        const id = stringOr(item.id, '');
        const startedAtMs = numberOr(payload.started_at_ms, null);
        const completedAtMs = numberOr(payload.completed_at_ms, null);
        if (item.type === 'UserMessage') {
          target.itemOrdinals.push(ordinal);
          target.turn.items.push({
            type: 'userMessage',
            id,
            clientId: stringOr(item.client_id, null),
            content: paginatedUserContent(item),
            startedAtMs,
            completedAtMs,
          });
          lastItemOrdinal = ordinal;
        } else if (item.type === 'AgentMessage') {
          target.itemOrdinals.push(ordinal);
          target.turn.items.push(
            agentItem(
              id,
              agentText(item),
              item.phase,
              item.memory_citation ?? null,
              startedAtMs,
              completedAtMs,
            ),
          );
          lastItemOrdinal = ordinal;
        } else if (item.type === 'CollabAgentToolCall') {
          target.itemOrdinals.push(ordinal);
          target.turn.items.push(collabItem(item, startedAtMs, completedAtMs));
          lastItemOrdinal = ordinal;
        }
        return;
      }
      default:
        return;
    }
  });

  const last = turns.at(-1);
  for (const built of turns) {
    if (built.turn.status !== 'inProgress') continue;
    if (running && built === last) continue;
    built.turn.status = 'interrupted';
  }
  return { turns, lastItemOrdinal, paginated };
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
