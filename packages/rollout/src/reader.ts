import { parseThreadId, type ThreadId } from '@skein/protocol';
import { RolloutError } from './errors.js';
import { forEachRolloutLine, isBlankLine, type RolloutFileInfo } from './lines.js';
import {
  KNOWN_HISTORY_MODES,
  type RolloutLine,
  rolloutLineFromJson,
  type SessionMetaLine,
} from './schema.js';

/*
 * Full load of a rollout with the tolerance rules of spec rollout-state §2.5.
 */

/**
 * A rollout read in full: its lines (the file's own `session_meta` first) and counts of what was
 * skipped (blank, malformed, torn).
 */
export interface RolloutReadResult {
  /** Every parsed line in file order (ghost snapshots removed, unknown kinds kept opaque). */
  lines: RolloutLine[];
  /** `id` of the first `session_meta` (the file's own), or null when there is none. */
  threadId: ThreadId | null;
  /** The file's own (first) `session_meta` payload. */
  sessionMeta: SessionMetaLine | null;
  /** Lines skipped: not JSON (incl. a torn last line), bad envelope, or bad payload. */
  parseErrors: number;
  /** Lines kept as opaque items because their `type` is unknown to this version. */
  unknownLines: number;
  /** The file actually read (plain or `.zst`) and its mtime. */
  file: RolloutFileInfo;
}

/** Streaming per-line decoder shared by the full reader and other scanners. */
export class RolloutLineDecoder {
  parseErrors = 0;
  unknownLines = 0;
  nonBlankLines = 0;
  sessionMeta: SessionMetaLine | null = null;

  constructor(private readonly path: string) {}

  /** Decodes one raw line; null when blank, unparseable or a ghost snapshot. */
  decode(raw: Buffer, start = 0, end = raw.length): RolloutLine | null {
    if (isBlankLine(raw, start, end)) return null;
    this.nonBlankLines += 1;
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8', start, end));
    } catch {
      this.parseErrors += 1;
      return null;
    }
    return this.decodeValue(value);
  }

  decodeValue(value: unknown): RolloutLine | null {
    if (this.sessionMeta === null) this.checkOwnHistoryMode(value);
    const parsed = rolloutLineFromJson(value);
    if (!parsed.ok) {
      this.parseErrors += 1;
      return null;
    }
    const line = parsed.line;
    if (line.type === 'opaque') {
      this.unknownLines += 1;
      return line;
    }
    if (line.type === 'response_item' && line.payload.type === 'ghost_snapshot') return null;
    if (line.type === 'compacted' && Array.isArray(line.payload.replacement_history)) {
      const history = line.payload.replacement_history;
      if (history.some(isGhostSnapshot)) {
        line.payload = {
          ...line.payload,
          replacement_history: history.filter((entry) => !isGhostSnapshot(entry)),
        };
      }
    }
    if (line.type === 'session_meta' && this.sessionMeta === null) {
      this.sessionMeta = line.payload;
    }
    return line;
  }

  /** Before the file's own meta is known, an unknown `history_mode` there is a hard error. */
  private checkOwnHistoryMode(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const record = value as { type?: unknown; payload?: unknown };
    if (record.type !== 'session_meta') return;
    if (typeof record.payload !== 'object' || record.payload === null) return;
    const mode = (record.payload as { history_mode?: unknown }).history_mode;
    if (mode === undefined || mode === null) return;
    if (typeof mode !== 'string' || !(KNOWN_HISTORY_MODES as readonly string[]).includes(mode)) {
      throw new RolloutError(
        'UnsupportedHistoryMode',
        `invalid session metadata history_mode ${JSON.stringify(mode)} in ${this.path}`,
      );
    }
  }
}

function isGhostSnapshot(entry: unknown): boolean {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    (entry as { type?: unknown }).type === 'ghost_snapshot'
  );
}

function threadIdOf(meta: SessionMetaLine | null): ThreadId | null {
  if (meta === null) return null;
  try {
    return parseThreadId(meta.id);
  } catch {
    return null;
  }
}

/**
 * Loads a rollout (plain or `.zst`) line by line. Blank lines are skipped; malformed, torn and
 * invalid lines are counted in `parseErrors`; unknown kinds are kept as opaque items. An empty
 * file is an error (`EmptyFile`); a file without `session_meta` is returned with `threadId`
 * null (use `readRolloutHistory` to require one).
 */
export async function readRollout(path: string): Promise<RolloutReadResult> {
  const decoder = new RolloutLineDecoder(path);
  const lines: RolloutLine[] = [];
  const file = await forEachRolloutLine(path, (raw) => {
    const line = decoder.decode(raw);
    if (line !== null) lines.push(line);
  });
  if (decoder.nonBlankLines === 0) {
    throw new RolloutError('EmptyFile', `empty session file: ${path}`);
  }
  return {
    lines,
    threadId: threadIdOf(decoder.sessionMeta),
    sessionMeta: decoder.sessionMeta,
    parseErrors: decoder.parseErrors,
    unknownLines: decoder.unknownLines,
    file,
  };
}

/** Like `readRollout`, but a file without a `session_meta` is an error. */
export async function readRolloutHistory(
  path: string,
): Promise<RolloutReadResult & { threadId: ThreadId; sessionMeta: SessionMetaLine }> {
  const result = await readRollout(path);
  if (result.threadId === null || result.sessionMeta === null) {
    throw new RolloutError(
      'MissingSessionMeta',
      `failed to parse thread ID from rollout file ${path}`,
    );
  }
  return result as RolloutReadResult & { threadId: ThreadId; sessionMeta: SessionMetaLine };
}

/**
 * Streams a rollout's parsed lines to `visit` without holding them all (returns the counters).
 * Return false from `visit` to stop early.
 */
export async function streamRollout(
  path: string,
  visit: (line: RolloutLine) => boolean | undefined,
): Promise<Omit<RolloutReadResult, 'lines'>> {
  const decoder = new RolloutLineDecoder(path);
  const file = await forEachRolloutLine(path, (raw) => {
    const line = decoder.decode(raw);
    if (line === null) return true;
    return visit(line) !== false;
  });
  return {
    threadId: threadIdOf(decoder.sessionMeta),
    sessionMeta: decoder.sessionMeta,
    parseErrors: decoder.parseErrors,
    unknownLines: decoder.unknownLines,
    file,
  };
}
