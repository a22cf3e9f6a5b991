/*
 * What a rollout line can contribute to thread metadata, decided from its envelope bytes
 * alone (no JSON parse, no string allocation). A line's kind (and an event's type) is read
 * from the fixed-order envelope Codex writes
 * (`{"timestamp":"…",("ordinal":n,)"type":"…","payload":{"type":"…"`); a line without that
 * exact shape is classed `Parse`, so callers that parse those fully always get the result of
 * a full load. Pure and dependency-free: the backfill's reader thread runs it too.
 *
 * Skipped lines are not parsed, so their JSON validity is checked structurally: the line must
 * end with `}` and must not contain a second line's start (what a torn write followed by a
 * later append looks like). The final unterminated line is always `Parse`.
 */

const enc = (text: string) => Buffer.from(text, 'latin1');
const TIMESTAMP_PREFIX = enc('{"timestamp":"');
const ORDINAL_KEY = enc(',"ordinal":');
const TYPE_KEY = enc(',"type":"');
const PAYLOAD_KEY = enc(',"payload":');
const EVENT_TYPE_PREFIX = enc('{"type":"');
const USER_MESSAGE_ITEM = enc('"type":"UserMessage"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACE = 0x7b;

/** Kinds whose payload is an object with a string `type` first (the only check the reader makes). */
const TYPED_PAYLOAD_KINDS = new Set(['response_item', 'event_msg']);
/** Kinds whose payload only has to be an object. */
const OBJECT_PAYLOAD_KINDS = new Set([
  'world_state',
  'token_usage_record',
  'inter_agent_communication',
  'inter_agent_communication_metadata',
]);
/** Kinds always parsed: they change metadata or have a payload the reader validates. */
const PARSED_KINDS = new Set(['session_meta', 'turn_context', 'compacted']);

/** What a metadata scan does with a (non-blank) line. */
export enum LineClass {
  /** Unusual shape, a torn line, or a kind that is always parsed (`session_meta`, `compacted`). */
  Parse = 0,
  TurnContext = 1,
  TokenCount = 2,
  /** `user_message`, `thread_goal_updated`, or an `item_completed` carrying a `UserMessage`. */
  UserEvent = 3,
  /** No metadata in it and a payload shape the reader would accept. */
  Skip = 4,
  /** An unknown kind (the reader keeps it opaque). */
  SkipUnknown = 5,
}

function startsWithAt(line: Buffer, end: number, prefix: Buffer, at: number): boolean {
  const length = prefix.length;
  if (at + length > end) return false;
  // A byte loop: for prefixes this short it beats Buffer.compare's call overhead by far.
  for (let i = 0; i < length; i += 1) if (line[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Index of the closing quote of a simple (escape-free) JSON string starting at `from`, or -1.
 * A byte loop: these strings are short, and Buffer.indexOf would scan the rest of the line for
 * a backslash.
 */
function simpleStringEnd(line: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i += 1) {
    const byte = line[i];
    if (byte === QUOTE) return i;
    if (byte === BACKSLASH) return -1;
  }
  return -1;
}

function lastNonSpace(line: Buffer, start: number, end: number): number {
  for (let i = end - 1; i >= start; i -= 1) {
    const byte = line[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return byte ?? -1;
  }
  return -1;
}

const KIND_TURN_CONTEXT = enc('turn_context"');
const KIND_EVENT_MSG = enc('event_msg"');
const KIND_RESPONSE_ITEM = enc('response_item"');
const EVENT_TOKEN_COUNT = enc('token_count"');
const EVENT_USER_MESSAGE = enc('user_message"');
const EVENT_GOAL = enc('thread_goal_updated"');
const EVENT_ITEM_COMPLETED = enc('item_completed"');

/** Reads kind (and event type) from the envelope bytes, without allocating strings. */
function classifyEnvelope(line: Buffer, start: number, end: number): LineClass {
  if (!startsWithAt(line, end, TIMESTAMP_PREFIX, start)) return LineClass.Parse;
  const tsEnd = simpleStringEnd(line, start + TIMESTAMP_PREFIX.length, end);
  if (tsEnd < 0) return LineClass.Parse;
  let at = tsEnd + 1;
  if (startsWithAt(line, end, ORDINAL_KEY, at)) {
    at += ORDINAL_KEY.length;
    const digitsStart = at;
    while (at < end && (line[at] ?? 0) >= 0x30 && (line[at] ?? 0) <= 0x39) at += 1;
    if (at === digitsStart) return LineClass.Parse;
  }
  if (!startsWithAt(line, end, TYPE_KEY, at)) return LineClass.Parse;
  const kindStart = at + TYPE_KEY.length;
  const kindEnd = simpleStringEnd(line, kindStart, end);
  if (kindEnd < 0 || !startsWithAt(line, end, PAYLOAD_KEY, kindEnd + 1)) return LineClass.Parse;
  const payloadAt = kindEnd + 1 + PAYLOAD_KEY.length;
  if (startsWithAt(line, end, KIND_RESPONSE_ITEM, kindStart)) {
    return startsWithAt(line, end, EVENT_TYPE_PREFIX, payloadAt) ? LineClass.Skip : LineClass.Parse;
  }
  if (startsWithAt(line, end, KIND_EVENT_MSG, kindStart)) {
    if (!startsWithAt(line, end, EVENT_TYPE_PREFIX, payloadAt)) return LineClass.Parse;
    const typeStart = payloadAt + EVENT_TYPE_PREFIX.length;
    if (startsWithAt(line, end, EVENT_TOKEN_COUNT, typeStart)) return LineClass.TokenCount;
    if (startsWithAt(line, end, EVENT_USER_MESSAGE, typeStart)) return LineClass.UserEvent;
    if (startsWithAt(line, end, EVENT_GOAL, typeStart)) return LineClass.UserEvent;
    if (
      startsWithAt(line, end, EVENT_ITEM_COMPLETED, typeStart) &&
      indexOfIn(line, USER_MESSAGE_ITEM, typeStart, end) >= 0
    ) {
      return LineClass.UserEvent;
    }
    return simpleStringEnd(line, typeStart, end) < 0 ? LineClass.Parse : LineClass.Skip;
  }
  if (startsWithAt(line, end, KIND_TURN_CONTEXT, kindStart)) return LineClass.TurnContext;
  const kind = line.toString('latin1', kindStart, kindEnd);
  if (PARSED_KINDS.has(kind)) return LineClass.Parse;
  if (OBJECT_PAYLOAD_KINDS.has(kind)) {
    return line[payloadAt] === OPEN_BRACE ? LineClass.Skip : LineClass.Parse;
  }
  if (TYPED_PAYLOAD_KINDS.has(kind)) return LineClass.Parse;
  // A kind this version does not know: kept opaque by the reader, no metadata in it.
  return LineClass.SkipUnknown;
}

/** `needle` within `line[from, end)`, or -1 (the search never runs past `end`). */
function indexOfIn(line: Buffer, needle: Buffer, from: number, end: number): number {
  if (end - from < needle.length) return -1;
  const at = line.subarray(from, end).indexOf(needle);
  return at < 0 ? -1 : from + at;
}

/**
 * Finds line starts (`{"timestamp":"`) inside lines, remembering the last search: normally the
 * occurrence found after a line's first byte is the next line's own start, so one unbounded
 * search per line (no subarray) answers both that line and, from the cache, nothing else.
 * One per file (it caches by buffer identity and offset).
 */
export class LineStartFinder {
  #data: Buffer | null = null;
  /** The first occurrence at or after `#from` in `#data` (-1: none). */
  #next = -1;
  #from = 0;

  /** Whether `data[from, end)` contains a line start. */
  within(data: Buffer, from: number, end: number): boolean {
    if (data !== this.#data || from < this.#from || (this.#next >= 0 && this.#next < from)) {
      this.#data = data;
      this.#from = from;
      this.#next = data.indexOf(TIMESTAMP_PREFIX, from);
    }
    return this.#next >= 0 && this.#next + TIMESTAMP_PREFIX.length <= end;
  }
}

/**
 * The class of the non-blank line `line[start, end)`; `terminated` is false for a final line
 * without `\n` (always parsed). Anything that does not look whole is `Parse`.
 */
export function classifyRolloutLine(
  line: Buffer,
  start: number,
  end: number,
  terminated: boolean,
  starts: LineStartFinder,
): LineClass {
  if (!terminated) return LineClass.Parse;
  const kind = classifyEnvelope(line, start, end);
  if (kind === LineClass.Parse) return kind;
  const whole =
    lastNonSpace(line, start, end) === CLOSE_BRACE && !starts.within(line, start + 1, end);
  return whole ? kind : LineClass.Parse;
}
