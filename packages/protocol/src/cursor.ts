import { isThreadId, type ThreadId } from './thread-id.js';
import { parseFileTimestamp, parseRfc3339Ms } from './time.js';

/**
 * The thread list cursor, one format for every store (spec rollout-state §4.4): the sort-key
 * time of a row and, as a tie-break, its id, printed `<RFC 3339 UTC>|<thread id>` the way Codex
 * prints it (milliseconds with trailing zeros dropped: `…:18.67Z`, `…:00Z`). A listing resumes
 * strictly after that position in its current order.
 */
export interface ThreadCursor {
  /** The row's sort-key time, epoch milliseconds. */
  timestampMs: number;
  /** The row's id; null when a cursor names only a time (everything at that time is passed). */
  threadId: ThreadId | null;
}

/** RFC 3339 UTC with the fewest fraction digits (`…:00Z`, `…:18.67Z`), as Codex prints times. */
export function formatCursorTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** A cursor as its opaque text: `<RFC 3339 time>|<thread id>`, or the time alone. */
export function encodeThreadCursor(cursor: ThreadCursor): string {
  const ts = formatCursorTimestamp(cursor.timestampMs);
  return cursor.threadId === null ? ts : `${ts}|${cursor.threadId}`;
}

/**
 * Parses `ts` or `ts|id`, where `ts` is RFC 3339 (any offset, any fraction) or a rollout file
 * name's `YYYY-MM-DDThh-mm-ss` (UTC). Returns null for anything else: each layer reports a bad
 * cursor with its own error.
 */
export function decodeThreadCursor(token: string): ThreadCursor | null {
  const bar = token.lastIndexOf('|');
  const tsText = bar >= 0 ? token.slice(0, bar) : token;
  const idText = bar >= 0 ? token.slice(bar + 1) : null;
  const timestampMs = parseRfc3339Ms(tsText) ?? parseFileTimestamp(tsText);
  if (timestampMs === null || (idText !== null && !isThreadId(idText))) return null;
  return { timestampMs, threadId: idText === null ? null : (idText.toLowerCase() as ThreadId) };
}

/** Whether `(timestampMs, id)` comes strictly after `cursor` in a listing sorted `direction`. */
export function isAfterThreadCursor(
  timestampMs: number,
  id: string,
  cursor: ThreadCursor,
  direction: 'asc' | 'desc',
): boolean {
  const sign = direction === 'asc' ? 1 : -1;
  const delta = sign * (timestampMs - cursor.timestampMs);
  if (delta !== 0 || cursor.threadId === null) return delta > 0;
  return sign * (id < cursor.threadId ? -1 : id > cursor.threadId ? 1 : 0) > 0;
}
