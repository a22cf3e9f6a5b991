/**
 * Pages of `thread/turns/list` over turns rebuilt by turns.ts, with 0.169's cursors: a rollout
 * ordinal for paginated histories (A.17), a turn id for legacy ones (A.18), each saying whether
 * the anchor turn itself is on the page. A layer of its own, apart from the store's `listTurns`
 * pages (@skein/thread-store turns.ts, base64url cursors): the two page differently but over the
 * same turns, both cut by `segmentTurns` of @skein/protocol.
 */

import type { SortDirection } from './params.js';
import { asRecord, type BuiltHistory, type BuiltTurn, viewTurn, type WireTurn } from './turns.js';
import type { TurnItemsView } from './vocabulary.js';

/**
 * A `thread/turns/list` or `thread/items/list` cursor that does not parse or names another thread.
 */
export class InvalidTurnsCursor extends Error {}

interface Anchor {
  index: number;
  includeAnchor: boolean;
}

/**
 * The cursor of a turn in 0.169's encoding: an ordinal for paginated histories, a turn id
 * otherwise.
 */
export function turnsCursor(
  threadId: string,
  history: BuiltHistory,
  built: BuiltTurn,
  includeAnchor: boolean,
): string {
  if (history.paginated) {
    return JSON.stringify({
      requestedThreadId: threadId,
      rolloutOrdinal: built.startOrdinal,
      includeAnchor,
      scope: { kind: 'turns' },
    });
  }
  return JSON.stringify({ turnId: built.turn.id, includeAnchor });
}

/** The backwards cursor 0.169 returns for items of a paginated history (null for legacy ones). */
export function itemsBackwardsCursor(threadId: string, history: BuiltHistory): string | null {
  if (!history.paginated || history.lastItemOrdinal === null) return null;
  return JSON.stringify({
    requestedThreadId: threadId,
    rolloutOrdinal: history.lastItemOrdinal,
    includeAnchor: true,
    scope: { kind: 'itemsByCreatedAtOrdinal' },
  });
}

function parseAnchor(cursor: string, threadId: string, history: BuiltHistory): Anchor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch {
    throw new InvalidTurnsCursor(`invalid cursor: ${cursor}`);
  }
  const record = asRecord(parsed);
  if (record === null || typeof record.includeAnchor !== 'boolean') {
    throw new InvalidTurnsCursor(`invalid cursor: ${cursor}`);
  }
  if (typeof record.turnId === 'string') {
    const index = history.turns.findIndex((t) => t.turn.id === record.turnId);
    if (index < 0) throw new InvalidTurnsCursor('invalid cursor: anchor turn is no longer present');
    return { index, includeAnchor: record.includeAnchor };
  }
  if (typeof record.rolloutOrdinal === 'number' && record.requestedThreadId === threadId) {
    const ordinal = record.rolloutOrdinal;
    // The anchor is the turn opened at (or, if that line is gone, the last one before) it.
    let index = -1;
    history.turns.forEach((t, i) => {
      if (t.startOrdinal <= ordinal) index = i;
    });
    const exact = history.turns[index]?.startOrdinal === ordinal;
    if (index < 0) return { index: -1, includeAnchor: false };
    return { index, includeAnchor: record.includeAnchor && exact };
  }
  throw new InvalidTurnsCursor(`invalid cursor: ${cursor}`);
}

/** A page of `thread/turns/list`: turns and cursors forward and back. */
export interface TurnsPage {
  data: WireTurn[];
  nextCursor: string | null;
  backwardsCursor: string | null;
}

/** One page of `thread/turns/list`. */
export function pageTurns(
  threadId: string,
  history: BuiltHistory,
  options: {
    cursor?: string | undefined;
    limit: number;
    direction: SortDirection;
    view: TurnItemsView;
  },
): TurnsPage {
  const all = history.turns;
  let ordered: number[];
  if (options.direction === 'desc') {
    let start = all.length - 1;
    if (options.cursor !== undefined) {
      const anchor = parseAnchor(options.cursor, threadId, history);
      start = anchor.includeAnchor ? anchor.index : anchor.index - 1;
    }
    ordered = [];
    for (let i = start; i >= 0; i -= 1) ordered.push(i);
  } else {
    let start = 0;
    if (options.cursor !== undefined) {
      const anchor = parseAnchor(options.cursor, threadId, history);
      start = anchor.includeAnchor ? anchor.index : anchor.index + 1;
    }
    ordered = [];
    for (let i = Math.max(0, start); i < all.length; i += 1) ordered.push(i);
  }
  const pageIndexes = ordered.slice(0, options.limit);
  const page = pageIndexes.map((i) => all[i]).filter((t): t is BuiltTurn => t !== undefined);
  const more = ordered.length > pageIndexes.length;
  const first = page[0];
  const last = page.at(-1);
  return {
    data: page.map((t) => viewTurn(t.turn, options.view)),
    nextCursor: more && last !== undefined ? turnsCursor(threadId, history, last, false) : null,
    backwardsCursor: first !== undefined ? turnsCursor(threadId, history, first, true) : null,
  };
}
