import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { RolloutError } from './errors.js';
import { parseRolloutFileName, plainRolloutPath } from './layout.js';
import { forEachRolloutLine, forEachRolloutLineSync, isBlankLine } from './lines.js';
import {
  type ExtractedThreadMetadata,
  extractThreadMetadata,
  MetadataExtractor,
  rolloutItemAffectsMetadata,
} from './metadata.js';
import { RolloutLineDecoder, readRollout } from './reader.js';

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
const METADATA_EVENT_TYPES = new Set(['token_count', 'user_message', 'thread_goal_updated']);

function startsWithAt(line: Buffer, prefix: Buffer, at: number): boolean {
  if (at + prefix.length > line.length) return false;
  return line.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

/** Index of the closing quote of a simple (escape-free) JSON string starting at `from`. */
function simpleStringEnd(line: Buffer, from: number): number {
  const end = line.indexOf(QUOTE, from);
  if (end < 0) return -1;
  const slash = line.indexOf(BACKSLASH, from);
  return slash >= 0 && slash < end ? -1 : end;
}

function lastNonSpace(line: Buffer): number {
  for (let i = line.length - 1; i >= 0; i -= 1) {
    const byte = line[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return byte ?? -1;
  }
  return -1;
}

type Classification = { action: 'parse' } | { action: 'skip'; unknown: boolean; payloadAt: number };

/** Reads kind (and event type) from the envelope bytes; 'parse' when the line is unusual. */
function classify(line: Buffer): Classification {
  if (!startsWithAt(line, TIMESTAMP_PREFIX, 0)) return { action: 'parse' };
  const tsEnd = simpleStringEnd(line, TIMESTAMP_PREFIX.length);
  if (tsEnd < 0) return { action: 'parse' };
  let at = tsEnd + 1;
  if (startsWithAt(line, ORDINAL_KEY, at)) {
    at += ORDINAL_KEY.length;
    const digitsStart = at;
    while (at < line.length && (line[at] ?? 0) >= 0x30 && (line[at] ?? 0) <= 0x39) at += 1;
    if (at === digitsStart) return { action: 'parse' };
  }
  if (!startsWithAt(line, TYPE_KEY, at)) return { action: 'parse' };
  const kindStart = at + TYPE_KEY.length;
  const kindEnd = simpleStringEnd(line, kindStart);
  if (kindEnd < 0) return { action: 'parse' };
  const kind = line.toString('latin1', kindStart, kindEnd);
  const payloadAt = kindEnd + 1 + PAYLOAD_KEY.length;
  if (!startsWithAt(line, PAYLOAD_KEY, kindEnd + 1)) return { action: 'parse' };
  if (PARSED_KINDS.has(kind)) return { action: 'parse' };
  if (TYPED_PAYLOAD_KINDS.has(kind)) {
    if (!startsWithAt(line, EVENT_TYPE_PREFIX, payloadAt)) return { action: 'parse' };
    if (kind === 'event_msg') {
      const typeStart = payloadAt + EVENT_TYPE_PREFIX.length;
      const typeEnd = simpleStringEnd(line, typeStart);
      if (typeEnd < 0) return { action: 'parse' };
      const eventType = line.toString('latin1', typeStart, typeEnd);
      if (METADATA_EVENT_TYPES.has(eventType)) return { action: 'parse' };
      if (eventType === 'item_completed' && line.indexOf(USER_MESSAGE_ITEM, typeEnd) >= 0) {
        return { action: 'parse' };
      }
    }
    return { action: 'skip', unknown: false, payloadAt };
  }
  if (OBJECT_PAYLOAD_KINDS.has(kind)) {
    if (line[payloadAt] !== OPEN_BRACE) return { action: 'parse' };
    return { action: 'skip', unknown: false, payloadAt };
  }
  // A kind this version does not know: kept opaque by the reader, no metadata in it.
  return { action: 'skip', unknown: true, payloadAt };
}

/** Per-file state of the fast scan; fed line by line by the sync or async driver. */
class FastMetadataScan {
  readonly decoder: RolloutLineDecoder;
  readonly extractor: MetadataExtractor;
  readonly rolloutPath: string;

  constructor(
    readonly path: string,
    options: ExtractFromFileOptions,
  ) {
    this.decoder = new RolloutLineDecoder(path);
    this.rolloutPath = options.rolloutPath ?? plainRolloutPath(path);
    const parsedName = parseRolloutFileName(path);
    this.extractor = new MetadataExtractor({
      rolloutPath: this.rolloutPath,
      defaultProvider: options.defaultProvider,
      fallback:
        parsedName === null
          ? null
          : { threadId: parsedName.threadId, createdAtMs: parsedName.timestampMs },
    });
  }

  visit(line: Buffer, terminated: boolean): void {
    if (isBlankLine(line)) return;
    if (terminated) {
      const kind = classify(line);
      if (kind.action === 'skip') {
        const structurallyComplete =
          lastNonSpace(line) === CLOSE_BRACE && line.indexOf(TIMESTAMP_PREFIX, 1) < 0;
        // Anything suspicious is parsed for real, so the error count stays exact.
        if (structurallyComplete) {
          this.decoder.nonBlankLines += 1;
          if (kind.unknown) this.decoder.unknownLines += 1;
          return;
        }
      }
    }
    const item = this.decoder.decode(line);
    if (item !== null && (item.type === 'session_meta' || rolloutItemAffectsMetadata(item))) {
      this.extractor.push(item);
    }
  }

  finish(mtimeMs: number, archived: boolean): FileMetadataResult {
    if (this.decoder.nonBlankLines === 0) {
      throw new RolloutError('EmptyFile', `empty session file: ${this.path}`);
    }
    const extracted = this.extractor.finish();
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
  let mtimeMs = 0;
  await forEachRolloutLine(path, (line, info) => {
    scan.visit(line, info.terminated);
  });
  try {
    mtimeMs = Math.floor((await stat(path)).mtimeMs);
  } catch {
    mtimeMs = await statCompressedSibling(path);
  }
  return scan.finish(mtimeMs, options.archived ?? false);
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
  let mtimeMs: number;
  try {
    mtimeMs = Math.floor((await stat(path)).mtimeMs);
  } catch {
    mtimeMs = await statCompressedSibling(path);
  }
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
  forEachRolloutLineSync(path, (line, info) => {
    scan.visit(line, info.terminated);
  });
  let mtimeMs = 0;
  try {
    mtimeMs = Math.floor(statSync(path).mtimeMs);
  } catch {
    try {
      mtimeMs = Math.floor(statSync(`${plainRolloutPath(path)}.zst`).mtimeMs);
    } catch {
      mtimeMs = 0;
    }
  }
  return scan.finish(mtimeMs, options.archived ?? false);
}

async function statCompressedSibling(path: string): Promise<number> {
  try {
    return Math.floor((await stat(`${plainRolloutPath(path)}.zst`)).mtimeMs);
  } catch {
    return 0;
  }
}
