import { RolloutError } from './errors.js';
import { parseRolloutFileName, plainRolloutPath } from './layout.js';
import { forEachRolloutLineRange, forEachRolloutLineRangeSync, isBlankLine } from './lines.js';
import {
  type ExtractedThreadMetadata,
  extractThreadMetadata,
  MetadataExtractor,
  rolloutItemAffectsMetadata,
} from './metadata.js';
import { RolloutLineDecoder, readRollout } from './reader.js';
import { parseEventMsg, type RolloutItem } from './schema.js';

/*
 * Metadata extraction straight from a rollout file, built for backfill speed: the bytes are
 * read in large chunks, lines are split with Buffer.indexOf, and only lines that can change
 * metadata are JSON-parsed. A line's kind (and an event's type) is read from the fixed-order
 * envelope Codex writes (`{"timestamp":"…",("ordinal":n,)"type":"…","payload":{"type":"…"`);
 * a line that does not have that exact shape is parsed fully, so the result always equals
 * extracting from a full load (`readRollout` + `extractThreadMetadata`).
 *
 * Skipped lines are not parsed, so their JSON validity is checked structurally: the line must
 * end with `}` and must not contain a second line's start (what a torn write followed by a
 * later append looks like). The final unterminated line is always parsed.
 */

export interface ExtractFromFileOptions {
  /** Provider used when the rollout names none. */
  defaultProvider: string;
  /** Recorded in `metadata.archived` (the caller knows where the file lives). */
  archived?: boolean;
  /** Recorded in `metadata.rolloutPath`; defaults to the plain form of `path`. */
  rolloutPath?: string;
}

export interface FileMetadataResult extends ExtractedThreadMetadata {
  parseErrors: number;
  unknownLines: number;
  /** File mtime in ms (also `metadata.updatedAtMs`). */
  mtimeMs: number;
}

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

/** What the fast scan does with a line, decided from its envelope bytes alone. */
enum LineClass {
  /** Unusual shape, or a kind that is always parsed (`session_meta`, `compacted`). */
  Parse,
  TurnContext,
  TokenCount,
  /** `user_message`, `thread_goal_updated`, or an `item_completed` carrying a `UserMessage`. */
  UserEvent,
  /** No metadata in it and a payload shape the reader would accept. */
  Skip,
  /** An unknown kind (the reader keeps it opaque). */
  SkipUnknown,
}

const KIND_TURN_CONTEXT = enc('turn_context"');
const KIND_EVENT_MSG = enc('event_msg"');
const KIND_RESPONSE_ITEM = enc('response_item"');
const EVENT_TOKEN_COUNT = enc('token_count"');
const EVENT_USER_MESSAGE = enc('user_message"');
const EVENT_GOAL = enc('thread_goal_updated"');
const EVENT_ITEM_COMPLETED = enc('item_completed"');

/** Reads kind (and event type) from the envelope bytes, without allocating strings. */
function classify(line: Buffer, start: number, end: number): LineClass {
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
 */
class LineStartFinder {
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

function structurallyComplete(
  line: Buffer,
  start: number,
  end: number,
  starts: LineStartFinder,
): boolean {
  return lastNonSpace(line, start, end) === CLOSE_BRACE && !starts.within(line, start + 1, end);
}

/**
 * Per-file state of the fast scan; fed line by line by the sync or async driver.
 *
 * Beyond skipping lines without metadata, it uses where each field comes from: the first user
 * message wins (later ones are skipped once title, preview and first message are set), and the
 * last `token_count` / `turn_context` wins, so those are kept as bytes and only the last valid
 * ones are parsed at the end (a `turn_context` is applied at once while the cwd is still empty,
 * the one case where an earlier one matters).
 */
class FastMetadataScan {
  readonly decoder: RolloutLineDecoder;
  readonly extractor: MetadataExtractor;
  readonly rolloutPath: string;
  readonly #turnContexts: Buffer[] = [];
  readonly #tokenCounts: Buffer[] = [];
  readonly #lineStarts = new LineStartFinder();

  constructor(
    readonly path: string,
    options: ExtractFromFileOptions,
  ) {
    this.decoder = new RolloutLineDecoder(path);
    this.rolloutPath = options.rolloutPath ?? plainRolloutPath(path);
    this.extractor = new MetadataExtractor({
      rolloutPath: this.rolloutPath,
      defaultProvider: options.defaultProvider,
      // The file name is parsed only when there is no session_meta (see finish).
      fallback: null,
    });
  }

  visit(line: Buffer, start: number, end: number, terminated: boolean): void {
    if (isBlankLine(line, start, end)) return;
    // The torn tail and anything that does not look whole are parsed for real.
    let kind = terminated ? classify(line, start, end) : LineClass.Parse;
    if (kind !== LineClass.Parse && !structurallyComplete(line, start, end, this.#lineStarts)) {
      kind = LineClass.Parse;
    }
    const current = this.extractor.current;
    switch (kind) {
      case LineClass.Skip:
        this.decoder.nonBlankLines += 1;
        return;
      case LineClass.SkipUnknown:
        this.decoder.nonBlankLines += 1;
        this.decoder.unknownLines += 1;
        return;
      case LineClass.UserEvent:
        if (
          current !== null &&
          current.preview !== '' &&
          current.firstUserMessage !== '' &&
          current.title !== ''
        ) {
          this.decoder.nonBlankLines += 1;
          return;
        }
        break;
      case LineClass.TokenCount:
        if (current !== null) {
          this.decoder.nonBlankLines += 1;
          this.#tokenCounts.push(Buffer.from(line.subarray(start, end)));
          return;
        }
        break;
      case LineClass.TurnContext:
        if (current !== null && current.cwd !== '') {
          this.decoder.nonBlankLines += 1;
          this.#turnContexts.push(Buffer.from(line.subarray(start, end)));
          return;
        }
        break;
      default:
        break;
    }
    const item = this.decoder.decode(line, start, end);
    if (item !== null && (item.type === 'session_meta' || rolloutItemAffectsMetadata(item))) {
      this.extractor.push(item);
    }
  }

  /** Decodes a deferred line (already counted as non-blank). */
  #decodeDeferred(raw: Buffer): RolloutItem | null {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      this.decoder.parseErrors += 1;
      return null;
    }
    return this.decoder.decodeValue(value);
  }

  /** Applies the deferred lines: the last valid token count, the last deciding turn contexts. */
  #applyDeferred(): void {
    for (let i = this.#tokenCounts.length - 1; i >= 0; i -= 1) {
      const item = this.#decodeDeferred(this.#tokenCounts[i] as Buffer);
      if (item?.type !== 'event_msg') continue;
      const event = parseEventMsg(item.payload);
      if (event?.type === 'token_count' && event.info) {
        this.extractor.push(item);
        break;
      }
    }
    const chosen: RolloutItem[] = [];
    let haveModel = false;
    let haveSandbox = false;
    let haveApproval = false;
    for (let i = this.#turnContexts.length - 1; i >= 0; i -= 1) {
      const item = this.#decodeDeferred(this.#turnContexts[i] as Buffer);
      if (item?.type !== 'turn_context') continue;
      const context = item.payload;
      const sandbox = context.permission_profile ?? context.sandbox_policy;
      const decides =
        !haveModel ||
        (!haveSandbox && sandbox !== undefined && sandbox !== null) ||
        (!haveApproval &&
          context.approval_policy !== undefined &&
          context.approval_policy !== null);
      if (decides) chosen.push(item);
      haveModel = true;
      haveSandbox ||= sandbox !== undefined && sandbox !== null;
      haveApproval ||= context.approval_policy !== undefined && context.approval_policy !== null;
      if (haveSandbox && haveApproval) break;
    }
    for (let i = chosen.length - 1; i >= 0; i -= 1) this.extractor.push(chosen[i] as RolloutItem);
  }

  finish(mtimeMs: number, archived: boolean): FileMetadataResult {
    if (this.decoder.nonBlankLines === 0) {
      throw new RolloutError('EmptyFile', `empty session file: ${this.path}`);
    }
    this.#applyDeferred();
    let extracted = this.extractor.finish();
    if (extracted === null) {
      const parsedName = parseRolloutFileName(this.path);
      if (parsedName !== null) {
        extracted = this.extractor.finish({
          threadId: parsedName.threadId,
          createdAtMs: parsedName.timestampMs,
        });
      }
    }
    if (extracted === null) {
      throw new RolloutError(
        'MissingSessionMeta',
        `no session metadata and no thread id in the file name: ${this.path}`,
      );
    }
    extracted.metadata.updatedAtMs = mtimeMs;
    extracted.metadata.archived = archived;
    return {
      ...extracted,
      parseErrors: this.decoder.parseErrors,
      unknownLines: this.decoder.unknownLines,
      mtimeMs,
    };
  }
}

/**
 * Thread metadata of one rollout file (plain or `.zst`), parsing only metadata lines.
 * `updatedAtMs` is the file mtime (ms). Throws `EmptyFile` for a file with no content and
 * `UnsupportedHistoryMode` like the reader.
 */
export async function extractThreadMetadataFromFile(
  path: string,
  options: ExtractFromFileOptions,
): Promise<FileMetadataResult> {
  const scan = new FastMetadataScan(path, options);
  const file = await forEachRolloutLineRange(path, (data, start, end, _offset, terminated) => {
    scan.visit(data, start, end, terminated);
  });
  return scan.finish(file.mtimeMs, options.archived ?? false);
}

/**
 * The reference path: a full load (`readRollout`) then `extractThreadMetadata`. Slower; used to
 * check the fast path and by callers that already hold the lines.
 */
export async function extractThreadMetadataByFullRead(
  path: string,
  options: ExtractFromFileOptions,
): Promise<FileMetadataResult> {
  const read = await readRollout(path);
  const parsedName = parseRolloutFileName(path);
  const extracted = extractThreadMetadata(read.lines, {
    rolloutPath: options.rolloutPath ?? plainRolloutPath(path),
    defaultProvider: options.defaultProvider,
    fallback:
      parsedName === null
        ? null
        : { threadId: parsedName.threadId, createdAtMs: parsedName.timestampMs },
  });
  if (extracted === null) {
    throw new RolloutError(
      'MissingSessionMeta',
      `no session metadata and no thread id in the file name: ${path}`,
    );
  }
  const mtimeMs = read.file.mtimeMs;
  extracted.metadata.updatedAtMs = mtimeMs;
  extracted.metadata.archived = options.archived ?? false;
  return { ...extracted, parseErrors: read.parseErrors, unknownLines: read.unknownLines, mtimeMs };
}

/** Synchronous twin of `extractThreadMetadataFromFile` (for tight backfill loops). */
export function extractThreadMetadataFromFileSync(
  path: string,
  options: ExtractFromFileOptions,
): FileMetadataResult {
  const scan = new FastMetadataScan(path, options);
  const file = forEachRolloutLineRangeSync(path, (data, start, end, _offset, terminated) => {
    scan.visit(data, start, end, terminated);
  });
  return scan.finish(file.mtimeMs, options.archived ?? false);
}
