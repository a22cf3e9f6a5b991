/**
 * Turns and items of a history, store-neutral: every store hands in its thread's lines (items
 * with the time they were recorded) and pages them here, so cursors, page sizes and views mean
 * the same thing on every store. Where turns start and end, their ids and statuses are
 * `segmentTurns` of @skein/protocol, the rule the app-server's wire turns use too; lines outside
 * every turn (the session meta, the first turn context) belong to no turn. These are the store's
 * pages with the store's own cursors (base64url JSON naming a turn or a line); the app-server
 * pages the same turns with 0.169's wire cursors in @skein/app-server-protocol's turn-pages.ts.
 */
import { parseRfc3339Ms, segmentTurns, type TurnSegment } from '@skein/protocol';
import type { RolloutLine } from '@skein/rollout';
import * as z from 'zod';
import { ThreadStoreError } from './errors.js';
import type {
  ItemPage,
  RolloutItem,
  SortDirection,
  StoredThreadItem,
  StoredTurn,
  StoredTurnItemsView,
  TurnPage,
} from './types.js';

/** The input of the pagers: one history item plus its `timestamp` (RFC 3339, UTC). */
export type { RolloutLine };

/** A turn cut by the shared rule, with the lines that belong to it. */
interface TurnDraft {
  segment: TurnSegment;
  lines: RolloutLine[];
  createdAtMs: number | null;
}

function eventPayload(line: RolloutLine): Record<string, unknown> | null {
  return line.type === 'event_msg' ? (line.payload as Record<string, unknown>) : null;
}

function lineItem(line: RolloutLine): RolloutItem {
  const { timestamp: _t, ordinal: _o, metadata: _m, ...item } = line;
  return item as RolloutItem;
}

/** A rollout's turns, oldest first, cut by `segmentTurns` (the wire's rule too). */
function draftTurns(lines: readonly RolloutLine[]): TurnDraft[] {
  return segmentTurns(lines).turns.map((segment) => ({
    segment,
    lines: segment.recordIndexes.map((index) => lines[index] as RolloutLine),
    createdAtMs: parseRfc3339Ms(lines[segment.startIndex]?.timestamp ?? ''),
  }));
}

const SUMMARY_EVENTS = new Set(['user_message', 'agent_message']);

function viewItems(lines: readonly RolloutLine[], view: StoredTurnItemsView): RolloutItem[] {
  if (view === 'notLoaded') return [];
  if (view === 'full') return lines.map(lineItem);
  return lines
    .filter((line) => {
      const payload = eventPayload(line);
      return (
        payload !== null && typeof payload.type === 'string' && SUMMARY_EVENTS.has(payload.type)
      );
    })
    .map(lineItem);
}

function toStoredTurn(draft: TurnDraft, view: StoredTurnItemsView): StoredTurn {
  const { segment, lines, createdAtMs } = draft;
  return {
    turnId: segment.turnId,
    items: viewItems(lines, view),
    metadataJson: null,
    turnCreatedAtMs: createdAtMs,
    itemsView: view,
    status: segment.status,
    error: null,
    startedAt: segment.startedAt,
    completedAt: segment.completedAt,
    durationMs: segment.durationMs,
  };
}

/** A cursor is base64url JSON of a small record; anything else is an invalid cursor. */
function encodeCursor(record: object): string {
  return Buffer.from(JSON.stringify(record)).toString('base64url');
}

const invalidCursor = (cursor: string) =>
  ThreadStoreError.invalidRequest(`invalid cursor: ${cursor}`);

function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalidCursor(cursor);
  }
}

const turnCursorSchema = z.object({ i: z.int().nonnegative(), t: z.string() });
const itemCursorSchema = z.object({ o: z.int().nonnegative() });

function encodeTurnCursor(index: number, turnId: string): string {
  return encodeCursor({ i: index, t: turnId });
}

/** The index of the turn a cursor names; the id must still be at that index. */
function decodeTurnCursor(cursor: string, turns: readonly TurnDraft[]): number {
  const { i, t } = decodeCursor(cursor, turnCursorSchema);
  if (turns[i]?.segment.turnId !== t) throw invalidCursor(cursor);
  return i;
}

/** `pageTurns`' options: page size, cursor, direction and items view. */
export interface TurnPageOptions {
  cursor: string | null | undefined;
  pageSize: number;
  direction: SortDirection;
  view: StoredTurnItemsView;
}

/**
 * One page of turns. A cursor names a turn; the page continues strictly after it in the
 * requested direction. `backwardsCursor` is the first returned turn: pass it with the opposite
 * direction for the turns before this page (null when there are none).
 */
export function pageTurns(lines: readonly RolloutLine[], options: TurnPageOptions): TurnPage {
  const turns = draftTurns(lines);
  const step = options.direction === 'asc' ? 1 : -1;
  let index: number;
  if (options.cursor) index = decodeTurnCursor(options.cursor, turns) + step;
  else index = step === 1 ? 0 : turns.length - 1;
  const pageSize = Math.max(0, Math.trunc(options.pageSize));
  const picked: number[] = [];
  for (; index >= 0 && index < turns.length && picked.length < pageSize; index += step) {
    picked.push(index);
  }
  const firstIndex = picked[0];
  const lastIndex = picked[picked.length - 1];
  const hasMore = index >= 0 && index < turns.length;
  const hasBefore =
    firstIndex !== undefined && firstIndex - step >= 0 && firstIndex - step < turns.length;
  return {
    turns: picked.map((i) => toStoredTurn(turns[i] as TurnDraft, options.view)),
    nextCursor:
      hasMore && lastIndex !== undefined
        ? encodeTurnCursor(lastIndex, (turns[lastIndex] as TurnDraft).segment.turnId)
        : null,
    backwardsCursor:
      hasBefore && firstIndex !== undefined
        ? encodeTurnCursor(firstIndex, (turns[firstIndex] as TurnDraft).segment.turnId)
        : null,
  };
}

function encodeItemCursor(ordinal: number): string {
  return encodeCursor({ o: ordinal });
}

/** `pageItems`' options: page size, cursor, direction and an optional turn. */
export interface ItemPageOptions {
  turnId: string | null | undefined;
  cursor: string | null | undefined;
  pageSize: number;
  direction: SortDirection;
}

/**
 * One page of a thread's items (every persisted line, in file order; the ordinal is the line's
 * position). With `turnId`, only that turn's items. Cursors work as for turns.
 */
export function pageItems(lines: readonly RolloutLine[], options: ItemPageOptions): ItemPage {
  const { turnOfRecord } = segmentTurns(lines);
  // Positions only: the JSON text is built for the returned page, not the whole thread.
  const all = lines.map((line, ordinal) => ({
    line,
    ordinal,
    turnId: turnOfRecord[ordinal]?.turnId ?? null,
  }));
  const selected =
    options.turnId == null ? all : all.filter((entry) => entry.turnId === options.turnId);
  const step = options.direction === 'asc' ? 1 : -1;
  let index: number;
  if (options.cursor) {
    const { o: ordinal } = decodeCursor(options.cursor, itemCursorSchema);
    const at = selected.findIndex((entry) => entry.ordinal === ordinal);
    if (at < 0) throw invalidCursor(options.cursor);
    index = at + step;
  } else {
    index = step === 1 ? 0 : selected.length - 1;
  }
  const pageSize = Math.max(0, Math.trunc(options.pageSize));
  const picked: StoredThreadItem[] = [];
  const firstIndex = index;
  for (; index >= 0 && index < selected.length && picked.length < pageSize; index += step) {
    const { line, ordinal, turnId } = selected[index] as (typeof selected)[number];
    picked.push({
      turnId,
      itemKey: String(line.ordinal ?? ordinal),
      itemOrdinal: ordinal,
      itemCreatedAtMs: parseRfc3339Ms(line.timestamp),
      materializedThreadItemJson: JSON.stringify(lineItem(line)),
    });
  }
  const first = picked[0];
  const last = picked[picked.length - 1];
  const hasMore = index >= 0 && index < selected.length;
  const before = firstIndex - step;
  const hasBefore = first !== undefined && before >= 0 && before < selected.length;
  return {
    items: picked,
    nextCursor: hasMore && last ? encodeItemCursor(last.itemOrdinal) : null,
    backwardsCursor: hasBefore && first ? encodeItemCursor(first.itemOrdinal) : null,
  };
}
