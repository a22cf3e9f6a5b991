/**
 * The vocabulary every Skein layer shares, declared once: thread ids, a thread's indexed
 * metadata, session sources, git info and its patch, the tri-state patch field, sort keys and
 * directions, the thread list cursor, the time formats of a Codex home, and where a history's
 * turns start and end. A leaf: it depends on nothing of Skein's.
 */
export {
  decodeThreadCursor,
  encodeThreadCursor,
  formatCursorTimestamp,
  isAfterThreadCursor,
  type ThreadCursor,
} from './cursor.js';
export type { ClearableField } from './field-patch.js';
export {
  clearableFieldSchema,
  type GitInfo,
  type GitInfoPatch,
  gitInfoPatchSchema,
  gitInfoSchema,
} from './git-info.js';
export {
  DEFAULT_SESSION_SOURCE,
  decodeSessionSource,
  encodeSessionSource,
  type SessionSource,
  type SessionSourceJson,
  type SubAgentSource,
  sessionSourceSchema,
  type ThreadSpawnSource,
  UNIT_SESSION_SOURCES,
} from './session-source.js';
export {
  SORT_DIRECTIONS,
  type SortDirection,
  sortDirectionSchema,
  type ThreadSortKey,
  threadSortKeySchema,
} from './sort.js';
export {
  isThreadId,
  newThreadId,
  parseThreadId,
  type ThreadId,
  threadIdSchema,
} from './thread-id.js';
export {
  defaultThreadMetadata,
  type ThreadHistoryModeValue,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
} from './thread-metadata.js';
export { parseFileTimestamp, parseRfc3339Ms } from './time.js';
export {
  isPaginatedHistory,
  segmentTurns,
  type TurnRecord,
  type TurnSegment,
  type TurnSegmentation,
  type TurnStatus,
  turnStartId,
} from './turn-segments.js';
