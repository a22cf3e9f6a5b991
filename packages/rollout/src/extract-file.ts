import { RolloutError } from './errors.js';
import { parseRolloutFileName, plainRolloutPath } from './layout.js';
import { classifyRolloutLine, LineClass, LineStartFinder } from './line-class.js';
import { forEachRolloutLineRange, forEachRolloutLineRangeSync, isBlankLine } from './lines.js';
import {
  type ExtractedThreadMetadata,
  eventTokensUsed,
  extractThreadMetadata,
  MetadataExtractor,
  rolloutItemAffectsMetadata,
} from './metadata.js';
import { RolloutLineDecoder, readRollout } from './reader.js';
import type { RolloutItem } from './schema.js';

/*
 * Metadata extraction straight from a rollout file, built for backfill speed: the bytes are
 * read in large chunks, lines are split with Buffer.indexOf, and only lines that can change
 * metadata are JSON-parsed; which those are is decided from the envelope bytes
 * (`classifyRolloutLine`), and a line of any unusual shape is parsed fully, so the result
 * always equals extracting from a full load (`readRollout` + `extractThreadMetadata`).
 */

/**
 * Options of the file extractors: the default provider, whether the file is archived, and the
 * Codex home (for index names).
 */
export interface ExtractFromFileOptions {
  /** Provider used when the rollout names none. */
  defaultProvider: string;
  /** Recorded in `metadata.archived` (the caller knows where the file lives). */
  archived?: boolean;
  /** Recorded in `metadata.rolloutPath`; defaults to the plain form of `path`. */
  rolloutPath?: string;
}

/**
 * A file's extracted metadata plus what reading it found (whether it had a `session_meta`, lines
 * skipped).
 */
export interface FileMetadataResult extends ExtractedThreadMetadata {
  parseErrors: number;
  unknownLines: number;
  /** File mtime in ms (also `metadata.updatedAtMs`). */
  mtimeMs: number;
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
    private readonly stableLines = false,
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
    this.apply(
      classifyRolloutLine(line, start, end, terminated, this.#lineStarts),
      line,
      start,
      end,
    );
  }

  /**
   * Handles the non-blank line `line[start, end)` of class `kind`. The bytes are copied when
   * kept, unless the scan was told they stay valid (`stableLines`).
   */
  apply(kind: LineClass, line: Buffer, start: number, end: number): void {
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
          this.#tokenCounts.push(this.#keep(line, start, end));
          return;
        }
        break;
      case LineClass.TurnContext:
        if (current !== null && current.cwd !== '') {
          this.decoder.nonBlankLines += 1;
          this.#turnContexts.push(this.#keep(line, start, end));
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

  #keep(line: Buffer, start: number, end: number): Buffer {
    const view = line.subarray(start, end);
    return this.stableLines ? view : Buffer.from(view);
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
      const tokens = eventTokensUsed(item.payload);
      if (tokens !== null) {
        this.extractor.pushTokenCount(item, tokens);
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

/**
 * A rollout's lines as classified by another thread (the backfill's reader): only the lines a
 * metadata scan may parse are present, as `[class, offset, length]` triples into `data`, in
 * file order; the skipped lines are only counted.
 */
export interface PrescannedRollout {
  /** Holds the candidate lines (never reused while the result is built). */
  data: Buffer;
  records: Int32Array;
  /** This file's triples: `records[3 * from, 3 * to)`. */
  from: number;
  to: number;
  /** Non-blank lines classed `Skip` or `SkipUnknown` / `SkipUnknown` alone. */
  skippedLines: number;
  skippedUnknownLines: number;
  /** File mtime (whole ms) as read. */
  mtimeMs: number;
}

/**
 * `extractThreadMetadataFromFileSync` for a file already read and classified: the same scan
 * over the same classes, so the result is the same.
 * @internal
 */
export function extractThreadMetadataFromPrescan(
  path: string,
  options: ExtractFromFileOptions,
  prescan: PrescannedRollout,
): FileMetadataResult {
  const scan = new FastMetadataScan(path, options, true);
  scan.decoder.nonBlankLines += prescan.skippedLines;
  scan.decoder.unknownLines += prescan.skippedUnknownLines;
  const { data, records } = prescan;
  for (let i = prescan.from; i < prescan.to; i += 1) {
    const at = 3 * i;
    const offset = records[at + 1] as number;
    scan.apply(records[at] as LineClass, data, offset, offset + (records[at + 2] as number));
  }
  return scan.finish(prescan.mtimeMs, options.archived ?? false);
}
