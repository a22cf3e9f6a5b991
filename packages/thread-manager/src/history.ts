/**
 * Reading turn structure out of a rollout history (legacy line shapes, plus the 0.169
 * `item_completed` user messages), and the fork snapshot policies of spec manager-appserver
 * §1.4. Pure functions over `RolloutItem[]`; nothing here touches a store.
 *
 * A turn is identified by the `turn_id` of its `task_started` (alias `turn_started`) event and
 * ends at the `task_complete` / `turn_complete` / `turn_aborted` event with the same id (or, for
 * histories without an id on the end event, at the next end event).
 */
import type { RolloutItem } from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';

const TURN_START_EVENTS = new Set(['task_started', 'turn_started']);
const TURN_END_EVENTS = new Set(['task_complete', 'turn_complete', 'turn_aborted']);

/** One turn's position in a history: `[start, end]` inclusive; `end` is null while in progress. */
export interface TurnSpan {
  turnId: string | null;
  start: number;
  end: number | null;
}

function payloadRecord(item: RolloutItem): Record<string, unknown> | undefined {
  const payload = item.payload;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as Record<string, unknown>)
    : undefined;
}

/** The `payload.type` of an `event_msg` item, else undefined. */
export function eventType(item: RolloutItem): string | undefined {
  if (item.type !== 'event_msg') return undefined;
  const kind = payloadRecord(item)?.type;
  return typeof kind === 'string' ? kind : undefined;
}

function turnIdOf(item: RolloutItem): string | null {
  const id = payloadRecord(item)?.turn_id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** A user message as Codex records it: the `user_message` event or a completed UserMessage item. */
export function isUserMessageItem(item: RolloutItem): boolean {
  const kind = eventType(item);
  if (kind === 'user_message') return true;
  if (kind !== 'item_completed') return false;
  const inner = payloadRecord(item)?.item;
  return (
    typeof inner === 'object' &&
    inner !== null &&
    (inner as { type?: unknown }).type === 'UserMessage'
  );
}

/**
 * Whether a history holds a user message (legacy `user_message` or 0.169 `item_completed`
 * UserMessage): what makes a thread listable.
 */
export function hasUserMessage(items: readonly RolloutItem[]): boolean {
  return items.some(isUserMessageItem);
}

/** Turn spans in order of their start. */
export function findTurnSpans(items: readonly RolloutItem[]): TurnSpan[] {
  const spans: TurnSpan[] = [];
  let open: TurnSpan | undefined;
  items.forEach((item, index) => {
    const kind = eventType(item);
    if (kind !== undefined && TURN_START_EVENTS.has(kind)) {
      if (open !== undefined) open.end = index - 1;
      const turnId = turnIdOf(item);
      let start = index;
      // The turn context of the same turn may be written just before its start event.
      while (start > 0) {
        const previous = items[start - 1];
        if (previous?.type !== 'turn_context' || turnIdOf(previous) !== turnId) break;
        start -= 1;
      }
      open = { turnId, start, end: null };
      spans.push(open);
    } else if (kind !== undefined && TURN_END_EVENTS.has(kind) && open !== undefined) {
      const endId = turnIdOf(item);
      if (endId === null || open.turnId === null || endId === open.turnId) {
        open.end = index;
        open = undefined;
      }
    }
  });
  return spans;
}

/**
 * Whether the history ends inside a turn: an open turn span, or (synthetic histories without
 * turn events) a user message with no end event after it.
 */
export function activeTurn(items: readonly RolloutItem[]): TurnSpan | null {
  const spans = findTurnSpans(items);
  const last = spans.at(-1);
  if (last !== undefined && last.end === null) return last;
  let lastUser = -1;
  let lastEnd = -1;
  items.forEach((item, index) => {
    if (isUserMessageItem(item)) lastUser = index;
    const kind = eventType(item);
    if (kind !== undefined && TURN_END_EVENTS.has(kind)) lastEnd = index;
  });
  if (lastUser > lastEnd && (last === undefined || last.end === null || last.end < lastUser)) {
    return { turnId: null, start: lastUser, end: null };
  }
  return null;
}

/** The text of the model-visible marker appended when a forked history ends mid-turn. */
export const INTERRUPTED_TURN_MARKER =
  '<turn_aborted>\nThe previous turn was interrupted before it finished; its work may be incomplete.\n</turn_aborted>';

/** The two items a real interrupt leaves behind: a marker message and `turn_aborted`. */
export function interruptionBoundary(turnId: string | null): RolloutItem[] {
  return [
    {
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: INTERRUPTED_TURN_MARKER }],
      },
    },
    {
      type: 'event_msg',
      payload: { type: 'turn_aborted', turn_id: turnId, reason: 'interrupted' },
    },
  ];
}

/** How a fork cuts the source history (spec §1.4). */
export type ForkSnapshot =
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'truncateBeforeNthUserMessage'; readonly n: number };

/** `Interrupted`: unchanged, unless the history ends mid-turn; then close it like an interrupt. */
export function snapshotInterrupted(items: readonly RolloutItem[]): RolloutItem[] {
  const active = activeTurn(items);
  if (active === null) return [...items];
  return [...items, ...interruptionBoundary(active.turnId)];
}

/**
 * `TruncateBeforeNthUserMessage(n)` (0-based): cut before the turn holding the n-th user
 * message; out of range mid-turn ⇒ cut before the active turn; out of range at a boundary ⇒
 * unchanged. An empty result means "a new, empty history".
 */
export function snapshotTruncateBeforeNthUserMessage(
  items: readonly RolloutItem[],
  n: number,
): RolloutItem[] {
  const userIndexes: number[] = [];
  items.forEach((item, index) => {
    if (isUserMessageItem(item)) userIndexes.push(index);
  });
  const spans = findTurnSpans(items);
  const target = userIndexes[n];
  if (target === undefined) {
    const active = activeTurn(items);
    return active === null ? [...items] : items.slice(0, active.start);
  }
  const holder = spans.find(
    (span) => span.start <= target && (span.end === null || target <= span.end),
  );
  return items.slice(0, holder === undefined ? target : holder.start);
}

/**
 * Applies a fork's snapshot policy to a copied history: `interrupted` closes an unfinished last
 * turn with Codex's interruption marker, `truncateBeforeNthUserMessage` cuts before the n-th user
 * message.
 */
export function applyForkSnapshot(
  items: readonly RolloutItem[],
  snapshot: ForkSnapshot,
): RolloutItem[] {
  return snapshot.kind === 'interrupted'
    ? snapshotInterrupted(items)
    : snapshotTruncateBeforeNthUserMessage(items, snapshot.n);
}

/** Keeps the history through the end of turn `lastTurnId` (inclusive). */
export function truncateThroughTurn(
  items: readonly RolloutItem[],
  lastTurnId: string,
): RolloutItem[] {
  const span = findTurnSpans(items).find((candidate) => candidate.turnId === lastTurnId);
  if (span === undefined) throw ThreadManagerError.turnNotFound(lastTurnId);
  if (span.end === null) throw ThreadManagerError.turnInProgress(lastTurnId);
  return items.slice(0, span.end + 1);
}

/** Keeps the history strictly before turn `beforeTurnId` starts. */
export function truncateBeforeTurn(
  items: readonly RolloutItem[],
  beforeTurnId: string,
): RolloutItem[] {
  const span = findTurnSpans(items).find((candidate) => candidate.turnId === beforeTurnId);
  if (span === undefined) throw ThreadManagerError.turnNotFound(beforeTurnId);
  return items.slice(0, span.start);
}
