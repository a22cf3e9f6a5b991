/**
 * `thread/list` cursors as 0.169.0 reads and writes them. A thread's position is its sort time
 * plus its id, and a cursor resumes strictly after a position in the page's direction (after
 * the time alone when the cursor has no id, as a `backwardsCursor`).
 *
 * Two precisions, seen on the real binary:
 * - `second`: the default listing by creation time (interactive sources, no search, not
 *   DB-only) walks the rollout files, whose names carry the creation time in whole seconds;
 *   `nextCursor` prints that (`2026-11-22T03:37:16Z|<id>`) and a cursor's time, which may carry
 *   milliseconds, is compared against `seconds × 1000`: `asc` from `…:36:59.000Z` skips a
 *   thread created at `…:36:59.645`, `desc` from `…:37:00.900Z` returns one created at
 *   `…:37:00.808`.
 * - `ms`: every other listing reads the state DB's millisecond columns and prints them
 *   (`2026-11-22T03:37:58.703Z|<id>`).
 *
 * The store pages by milliseconds, so the handler asks it from the start of the cursor's
 * second and drops what 0.169.0 would not return (`keeps`).
 */
import { RpcError } from '../errors.js';

export interface ListCursor {
  ms: number;
  id: string | null;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)(?:\|([0-9a-fA-F-]{36}))?$/;

export function parseListCursor(text: string): ListCursor {
  const match = CURSOR.exec(text);
  const ms = match?.[1] === undefined ? Number.NaN : Date.parse(match[1]);
  if (match === null || !Number.isFinite(ms))
    throw RpcError.invalidRequest(`invalid cursor: ${text}`);
  return { ms, id: match[2]?.toLowerCase() ?? null };
}

export type CursorPrecision = 'second' | 'ms';

/** The position 0.169.0 compares: whole seconds (as ms) or the time itself. */
export function positionMs(sortTimeMs: number, precision: CursorPrecision): number {
  return precision === 'second' ? Math.floor(sortTimeMs / 1000) * 1000 : sortTimeMs;
}

/**
 * A `nextCursor` as 0.169.0 prints it: RFC 3339 in UTC with the fraction's trailing zeros
 * dropped (`…:37:00.93Z`, `…:37:16Z`), then the id. (Its `backwardsCursor` keeps three digits.)
 */
export function formatListCursor(
  sortTimeMs: number,
  id: string,
  precision: CursorPrecision,
): string {
  const iso = new Date(positionMs(sortTimeMs, precision)).toISOString();
  return `${iso.replace(/\.?0*Z$/, 'Z')}|${id}`;
}

/** A store cursor (bare time) that starts a page early enough to hold every row `keeps` accepts. */
export function storeStartCursor(
  cursor: ListCursor,
  direction: 'asc' | 'desc',
  precision: CursorPrecision,
): string {
  const start = positionMs(cursor.ms, precision);
  const span = precision === 'second' ? 1000 : 1;
  // desc: the store returns times < its cursor; asc: times > its cursor.
  const ms = direction === 'desc' ? start + span : start - 1;
  return new Date(ms).toISOString();
}

/** Whether a row at `sortTimeMs` / `id` lies strictly after the cursor in `direction`. */
export function keeps(
  cursor: ListCursor,
  direction: 'asc' | 'desc',
  precision: CursorPrecision,
  sortTimeMs: number,
  id: string,
): boolean {
  const sign = direction === 'asc' ? 1 : -1;
  const delta = sign * (positionMs(sortTimeMs, precision) - cursor.ms);
  if (delta !== 0 || cursor.id === null) return delta > 0;
  return sign * (id < cursor.id ? -1 : id > cursor.id ? 1 : 0) > 0;
}
