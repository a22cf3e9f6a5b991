import type { ThreadId } from '@skein/protocol';
import { RolloutError } from './errors.js';
import { findThreadPath } from './find-thread-path.js';
import { forEachRolloutLine } from './lines.js';
import { RolloutLineDecoder, type RolloutReadResult, readRolloutHistory } from './reader.js';
import type { HistoryBase, RolloutLine, SessionMetaLine } from './schema.js';

/*
 * A thread's full history. Legacy forks copy their parent's lines, so the file is the whole
 * history. 0.169 forks by reference: the fork's `session_meta.history_base` names the base
 * thread and where its inherited part ends (`end_ordinal_exclusive`, `end_byte_offset`); the
 * base's lines before that point come first.
 */

/** Maximum chain of forks-of-forks followed. */
const MAX_BASE_DEPTH = 16;

/**
 * A thread's history as read: its own lines, plus the lines a Codex 0.169 fork by reference
 * inherits from its source (and where they came from).
 */
export interface ThreadHistory extends RolloutReadResult {
  threadId: ThreadId;
  sessionMeta: SessionMetaLine;
  /** Lines inherited from base threads (oldest base first), before `lines`. */
  inheritedLines: RolloutLine[];
  /** Base thread ids whose rollout could not be found (their part is missing). */
  missingBases: string[];
}

async function readBasePrefix(path: string, base: HistoryBase): Promise<RolloutLine[]> {
  const decoder = new RolloutLineDecoder(path);
  const lines: RolloutLine[] = [];
  const endOrdinal = base.end_ordinal_exclusive;
  const endOffset = base.end_byte_offset;
  await forEachRolloutLine(path, (raw, info) => {
    if (endOffset !== undefined && info.offset >= endOffset) return false;
    const line = decoder.decode(raw);
    if (line === null) return true;
    if (endOrdinal !== undefined && line.ordinal !== undefined && line.ordinal >= endOrdinal) {
      return false;
    }
    lines.push(line);
    return true;
  });
  return lines;
}

/**
 * Reads a thread's rollout and, for a fork by reference, the inherited prefix of its base
 * thread(s) (found under `codexHome`). Errors like `readRolloutHistory` for the own file.
 */
export async function readThreadHistory(codexHome: string, path: string): Promise<ThreadHistory> {
  const own = await readRolloutHistory(path);
  const segments: RolloutLine[][] = [];
  const missingBases: string[] = [];
  let base = own.sessionMeta.history_base ?? null;
  const seen = new Set<string>([own.threadId]);
  for (let depth = 0; base !== null && depth < MAX_BASE_DEPTH; depth += 1) {
    const baseId = base.thread_id.toLowerCase();
    if (seen.has(baseId)) {
      throw new RolloutError('InvalidArgument', `history base cycle at ${baseId} in ${path}`);
    }
    seen.add(baseId);
    const basePath = await findThreadPath(codexHome, baseId);
    if (basePath === null) {
      missingBases.push(baseId);
      break;
    }
    const prefix = await readBasePrefix(basePath, base);
    segments.unshift(prefix);
    const baseMeta = prefix.find((line) => line.type === 'session_meta');
    base = baseMeta?.type === 'session_meta' ? (baseMeta.payload.history_base ?? null) : null;
  }
  return { ...own, inheritedLines: segments.flat(), missingBases };
}
