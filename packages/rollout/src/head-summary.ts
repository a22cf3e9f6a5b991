import { parseThreadId, type ThreadId } from '@skein/protocol';
import { wallClockNs } from '@skein/state';
import { errnoCode, isRolloutError, RolloutError } from './errors.js';
import {
  type StatSignature,
  sameSignature,
  statSignature,
  vouchesForRead,
  WeightedLru,
} from './file-signature.js';
import { compressedRolloutPath, plainRolloutPath } from './layout.js';
import {
  forEachRolloutLine,
  forEachRolloutLineSync,
  isBlankLine,
  type RolloutFileInfo,
} from './lines.js';
import { eventUserMessage } from './metadata.js';
import { type HistoryBase, rolloutLineFromJson, type SessionMetaLine } from './schema.js';

/*
 * The per-file summary listing needs (spec rollout-state §4.3), read from the head of the file
 * only: the first `session_meta`, the first user message (legacy `user_message` events, or
 * 0.169's `item_completed` UserMessage items), and the creation time.
 */

/** Records read before giving up on a preview (10, extended by 200 once a meta was seen). */
export const HEAD_RECORD_LIMIT = 10;
/**
 * Records read beyond `HEAD_RECORD_LIMIT` once a `session_meta` was seen, looking for the first
 * user message.
 */
export const HEAD_RECORD_EXTENSION = 200;

/**
 * What the head of a rollout says: its `session_meta`, the first user message (the preview), and
 * the creation time.
 */
export interface RolloutHeadSummary {
  threadId: ThreadId | null;
  /** The file's own (first) `session_meta`. */
  sessionMeta: SessionMetaLine | null;
  /** Whether the first non-blank record is a valid `session_meta`. */
  startsWithSessionMeta: boolean;
  /** The list preview (first user message or goal), or null: such a thread is not listed. */
  preview: string | null;
  /** First user message text (incl. `[Image]`), or null. */
  firstUserMessage: string | null;
  /** `session_meta.timestamp` exactly as written, else the first item line's timestamp. */
  createdAt: string | null;
  /** 0.169 fork by reference: the base thread whose first lines this thread inherits. */
  historyBase: HistoryBase | null;
  /** Non-blank records read. */
  recordsScanned: number;
  file: RolloutFileInfo;
}

function threadIdOf(meta: SessionMetaLine | null): ThreadId | null {
  if (meta === null) return null;
  try {
    return parseThreadId(meta.id);
  } catch {
    return null;
  }
}

/** Collects a head summary from the lines handed to `visit`, in order. */
function headCollector() {
  let sessionMeta: SessionMetaLine | null = null;
  let startsWithSessionMeta = false;
  let preview: string | null = null;
  let firstUserMessage: string | null = null;
  let createdAt: string | null = null;
  let records = 0;
  let bytesRead = 0;
  const visit = (raw: Buffer, at: { offset: number }): boolean => {
    bytesRead = at.offset + raw.length;
    if (isBlankLine(raw)) return true;
    records += 1;
    const limit =
      sessionMeta !== null ? HEAD_RECORD_LIMIT + HEAD_RECORD_EXTENSION : HEAD_RECORD_LIMIT;
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      return records < limit;
    }
    const parsed = rolloutLineFromJson(value);
    if (parsed.ok) {
      const line = parsed.line;
      if (line.type === 'session_meta') {
        if (sessionMeta === null) {
          sessionMeta = line.payload;
          createdAt = line.payload.timestamp;
          if (records === 1) startsWithSessionMeta = true;
        }
      } else if (line.type === 'response_item' || line.type === 'inter_agent_communication') {
        createdAt ??= line.timestamp;
      } else if (line.type === 'event_msg') {
        const user = eventUserMessage(line.payload);
        if (user !== null && user.preview !== null) {
          preview ??= user.preview;
          firstUserMessage ??= user.preview;
        } else if (line.payload.type === 'thread_goal_updated' && preview === null) {
          const goal = line.payload.goal as { objective?: unknown } | undefined;
          const objective = typeof goal?.objective === 'string' ? goal.objective.trim() : '';
          if (objective !== '') preview = objective;
        }
      }
    }
    if (sessionMeta !== null && preview !== null && firstUserMessage !== null) return false;
    const extended =
      sessionMeta !== null ? HEAD_RECORD_LIMIT + HEAD_RECORD_EXTENSION : HEAD_RECORD_LIMIT;
    return records < extended;
  };
  const summary = (file: RolloutFileInfo): RolloutHeadSummary => {
    const meta = sessionMeta as SessionMetaLine | null;
    return {
      threadId: threadIdOf(meta),
      sessionMeta: meta,
      startsWithSessionMeta,
      preview,
      firstUserMessage,
      createdAt,
      historyBase: meta?.history_base ?? null,
      recordsScanned: records,
      file,
    };
  };
  return { visit, summary, bytesRead: () => bytesRead };
}

/**
 * Bytes of the first read of a head: a page of heads (a list page reads 50) then costs a few
 * syscalls per file, not a whole rollout each; a head that runs longer reads on.
 */
const HEAD_READ_BYTES = 64 * 1024;

/** A head read earlier: the file read (plain or `.zst`), its signature then, the summary. */
interface CachedHead {
  actual: string;
  signature: StatSignature;
  summary: RolloutHeadSummary;
}

/**
 * Summaries of heads read earlier, by the path asked for, reused while the file is exactly as
 * it was (the same inode, size, mtime and ctime): one `stat` instead of an open, a read and a
 * parse. A listing asks for the same heads page after page (a client refreshing its first page
 * re-reads 50 of them each time). Rollouts only grow, and any write changes the size or the
 * times; the racy-stat rule keeps out files written too recently for their times to tell a
 * later write apart. Bounded by the bytes of the heads it holds, so a walk over a whole home
 * keeps only its tail.
 */
const headCache = new WeightedLru<CachedHead>(8 * 1024 * 1024, 4096);

/** The rollout file `path` names now (plain, else `.zst`) and its signature; null if neither. */
export function statRollout(path: string): { actual: string; signature: StatSignature } | null {
  // The `.zst` name is built only when the plain file is not there (a list page asks for
  // dozens of heads).
  for (const named of [plainRolloutPath, compressedRolloutPath]) {
    const actual = named(path);
    const signature = statSignature(actual);
    if (signature !== null) return { actual, signature };
  }
  return null;
}

/** The cached summary of `path` while the file is the one it was read from (`current`). */
function cachedFor(
  path: string,
  current: ReturnType<typeof statRollout>,
): RolloutHeadSummary | undefined {
  const cached = headCache.get(path);
  if (
    cached !== undefined &&
    current !== null &&
    cached.actual === current.actual &&
    sameSignature(cached.signature, current.signature)
  ) {
    return cached.summary;
  }
  return undefined;
}

/**
 * What `readHeadSummary` would answer from its cache, without reading the file or waiting:
 * undefined when the head is not cached or the file changed since (one `stat`).
 */
export function cachedHeadSummary(path: string): RolloutHeadSummary | undefined {
  return cachedFor(path, statRollout(path));
}

/**
 * Reads the head of a rollout (plain or `.zst`) until the summary is complete or the limit.
 * The read is synchronous (a head is a few kilobytes, usually in the page cache: four
 * syscalls cost less than four thread-pool round trips, and a list page reads dozens); only a
 * rollout found under neither name takes the asynchronous path, which waits out a plain↔`.zst`
 * transition in progress. A head read before from a file unchanged since comes from the cache
 * (see `headCache`); the summary returned is shared, and must not be changed.
 */
export async function readHeadSummary(path: string): Promise<RolloutHeadSummary> {
  const readAtNs = wallClockNs();
  const current = statRollout(path);
  const cached = cachedFor(path, current);
  if (cached !== undefined) return cached;
  const sync = headCollector();
  try {
    const summary = sync.summary(forEachRolloutLineSync(path, sync.visit, HEAD_READ_BYTES));
    // Kept only when the file read is the one stat'ed (the same name, size and mtime) and the
    // signature vouches for it.
    if (
      current !== null &&
      summary.file.path === current.actual &&
      BigInt(summary.file.size) === current.signature.size &&
      BigInt(summary.file.mtimeMs) === current.signature.mtimeNs / 1_000_000n &&
      vouchesForRead(current.signature, readAtNs)
    ) {
      headCache.set(path, { ...current, summary }, sync.bytesRead());
    } else {
      headCache.delete(path);
    }
    return summary;
  } catch (error) {
    // Found under neither name (ENOENT for both): the async reader retries a while.
    if (!(isRolloutError(error, 'Io') && errnoCode(error.cause) === 'ENOENT')) throw error;
  }
  const retried = headCollector();
  return retried.summary(await forEachRolloutLine(path, retried.visit));
}

/** The first record parsed as `session_meta`; errors when the file is empty or starts otherwise. */
export async function readSessionMetaLine(path: string): Promise<SessionMetaLine> {
  let first: unknown;
  let seen = false;
  await forEachRolloutLine(path, (raw) => {
    if (isBlankLine(raw)) return true;
    seen = true;
    try {
      first = JSON.parse(raw.toString('utf8'));
    } catch {
      first = undefined;
    }
    return false;
  });
  if (!seen) throw new RolloutError('EmptyFile', `rollout at ${path} is empty`);
  const parsed = rolloutLineFromJson(first);
  if (!parsed.ok || parsed.line.type !== 'session_meta') {
    throw new RolloutError(
      'MissingSessionMeta',
      `rollout at ${path} does not start with session metadata`,
    );
  }
  return parsed.line.payload;
}
