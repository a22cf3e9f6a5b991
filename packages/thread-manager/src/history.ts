/**
 * Reading turn structure out of a rollout history, and the fork snapshot policies of spec
 * manager-appserver §1.4. Pure functions over `RolloutItem[]`; nothing here touches a store.
 *
 * Which turns a history has, their ids and whether a rollback dropped them is protocol's
 * `segmentTurns`, the rule `thread/turns/list` answers with, so a fork "at turn X" finds the same
 * turn X the list shows. Where a fork cuts is deliberately not the segment's last record: codex
 * 0.169 cuts a history at raw turn starts, because only a persisted start is a stable line to cut
 * a rollout at (observed on the binary over the legacy edge histories of
 * packages/protocol/test/turn-edge-cases.ts, pinned in test/fork-cuts.test.ts):
 *
 * - `lastTurnId` keeps everything before the next turn start after X's start (records after X's
 *   completion, implicit turns included, stay); `beforeTurnId` keeps everything before X's start.
 *   A record of an earlier turn written after that start (a late completion) is cut with it.
 * - Implicit turns (`rollout-<n>`, no start event) cannot be cut at; rolled-back or unknown ids
 *   are not found.
 * - A turn counts as unfinished (a `lastTurnId` is refused, `Interrupted` closes it) while no
 *   completion or abort closed it and no `error` event came in it: 0.169's fork treats an error
 *   as failing the turn, though its `thread/read` shows the turn's status unchanged. A turn only
 *   a later start ended stays unfinished for `lastTurnId`; only the last open one is closed.
 */
import { segmentTurns, type TurnSegment, turnStartId } from '@skein/protocol';
import type { RolloutItem } from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';

/** One turn's position in a history: `[start, end]` inclusive; `end` is null while in progress. */
export interface TurnSpan {
  turnId: string;
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

/** Turn spans in history order (`segmentTurns`' turns: first and last record index). */
export function findTurnSpans(items: readonly RolloutItem[]): TurnSpan[] {
  return segmentTurns(items).turns.map((turn) => ({
    turnId: turn.turnId,
    start: turn.startIndex,
    end: turn.status === 'inProgress' ? null : (turn.recordIndexes.at(-1) ?? turn.startIndex),
  }));
}

/** Whether a fork treats the turn as unfinished (see the module header). */
function unfinished(turn: TurnSegment, items: readonly RolloutItem[]): boolean {
  if (!turn.explicit || turn.closeIndex !== null) return false;
  return !turn.recordIndexes.some((index) => {
    const item = items[index];
    return item !== undefined && eventType(item) === 'error';
  });
}

/** The turn a history ends inside: its last turn, explicit and unfinished; else null. */
export function activeTurn(items: readonly RolloutItem[]): TurnSpan | null {
  const open = segmentTurns(items).turns.find((turn) => turn.status === 'inProgress');
  if (open === undefined || !unfinished(open, items)) return null;
  return { turnId: open.turnId, start: open.startIndex, end: null };
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
 * `TruncateBeforeNthUserMessage(n)` (0-based, among the user messages no rollback dropped): cut
 * before the n-th user message, or before the start of the explicit turn holding it; out of range
 * mid-turn ⇒ cut before the active turn; out of range at a boundary ⇒ unchanged. An empty result
 * means "a new, empty history".
 */
export function snapshotTruncateBeforeNthUserMessage(
  items: readonly RolloutItem[],
  n: number,
): RolloutItem[] {
  const { turnOfRecord } = segmentTurns(items);
  const cuts: number[] = [];
  items.forEach((item, index) => {
    const turn = turnOfRecord[index];
    if (turn === null || turn === undefined || !isUserMessageItem(item)) return;
    cuts.push(turn.explicit ? turn.startIndex : index);
  });
  const cut = cuts[n];
  if (cut === undefined) {
    const active = activeTurn(items);
    return active === null ? [...items] : items.slice(0, active.start);
  }
  return items.slice(0, cut);
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

/** The turn a fork cuts at: present after rollbacks and opened by a persisted start. */
function forkPoint(items: readonly RolloutItem[], turnId: string): TurnSegment {
  const turn = segmentTurns(items).turns.find((candidate) => candidate.turnId === turnId);
  if (turn === undefined) throw ThreadManagerError.turnNotFound(turnId);
  if (!turn.explicit) {
    throw ThreadManagerError.invalidRequest(
      `turn ${turnId} has no persisted turn start; a fork cannot cut at it`,
    );
  }
  return turn;
}

/** Keeps the history through turn `lastTurnId`: up to the next turn start after its own. */
export function truncateThroughTurn(
  items: readonly RolloutItem[],
  lastTurnId: string,
): RolloutItem[] {
  const turn = forkPoint(items, lastTurnId);
  if (unfinished(turn, items)) throw ThreadManagerError.turnInProgress(lastTurnId);
  const next = items.findIndex(
    (item, index) => index > turn.startIndex && turnStartId(item) !== null,
  );
  return items.slice(0, next === -1 ? items.length : next);
}

/** Keeps the history strictly before turn `beforeTurnId` starts. */
export function truncateBeforeTurn(
  items: readonly RolloutItem[],
  beforeTurnId: string,
): RolloutItem[] {
  return items.slice(0, forkPoint(items, beforeTurnId).startIndex);
}
