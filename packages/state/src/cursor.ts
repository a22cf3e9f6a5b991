import { StateError } from './errors.js';
import { isThreadId, type ThreadId } from './thread-id.js';

/**
 * A list position: the sort-key time of a row and, as a tie-break, its id. "Resume strictly
 * after (tsMs, id) in the current order" (spec rollout-state §4.4).
 */
export interface ThreadCursor {
  tsMs: number;
  id: ThreadId | null;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FILENAME_TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})$/;

/** Encodes as `<RFC 3339 UTC with ms>|<id>` (the format Codex emits, with ms precision). */
export function encodeThreadCursor(cursor: ThreadCursor): string {
  const ts = new Date(cursor.tsMs).toISOString();
  return cursor.id ? `${ts}|${cursor.id}` : ts;
}

/** Parses `ts`, `ts|id`, and the rollout file-name form `YYYY-MM-DDThh-mm-ss` (as UTC). */
export function decodeThreadCursor(token: string): ThreadCursor {
  const bar = token.lastIndexOf('|');
  const tsPart = bar >= 0 ? token.slice(0, bar) : token;
  const idPart = bar >= 0 ? token.slice(bar + 1) : null;
  if (idPart !== null && !isThreadId(idPart)) invalid(token);
  const tsMs = parseCursorTimestamp(tsPart);
  if (tsMs === null) invalid(token);
  return { tsMs, id: idPart === null ? null : (idPart.toLowerCase() as ThreadId) };
}

function parseCursorTimestamp(text: string): number | null {
  const file = FILENAME_TS.exec(text);
  if (file) {
    const [, y, mo, d, h, mi, s] = file.map(Number) as number[];
    return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  }
  if (!RFC3339.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function invalid(token: string): never {
  throw new StateError('InvalidCursor', `invalid cursor: ${token}`);
}
