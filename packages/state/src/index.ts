export {
  BACKFILL_LEASE,
  type BackfillState,
  checkpointBackfill,
  ensureBackfillState,
  markBackfillComplete,
  markBackfillRunning,
  readBackfillState,
  resetBackfill,
} from './backfill-state.js';
export { TimestampAllocator } from './clock.js';
export { createStateContext, type StateContext, seedStateClocks } from './context.js';
export { decodeThreadCursor, encodeThreadCursor, type ThreadCursor } from './cursor.js';
export { containsText, detectStateSqlDialect, type StateSqlDialect } from './dialect.js';
export { StateError, type StateErrorCode } from './errors.js';
export {
  currentLeaseOwner,
  isLeaseOwnerDead,
  type LeaseOwner,
  processStartToken,
} from './lease-owner.js';
export {
  type ClaimLeaseParams,
  claimLease,
  heartbeatLease,
  type LeaseClaim,
  type LeaseRecord,
  readLease,
  releaseLease,
} from './leases.js';
export {
  appliedStateMigrations,
  buildMissingPgSearchIndexes,
  type MigrateStateOptions,
  migrateStateSchema,
  STATE_MIGRATION_LOCK_TABLE,
  STATE_MIGRATION_NAMES,
  STATE_MIGRATION_TABLE,
  STATE_MIGRATIONS,
} from './migrations.js';
export {
  type OpenStateRuntimeOptions,
  STATE_DB_SCHEMA_VERSION,
  type StateDb,
  StateRuntime,
  stateDbFileName,
  stateDbPath,
} from './runtime.js';
export type {
  BackfillStateTable,
  BackfillStatus,
  LeasesTable,
  StateDatabase,
  ThreadSpawnEdgesTable,
  ThreadsTable,
} from './schema.js';
export type { BatchUpsertEntry, BatchUpsertOptions } from './sqlite-upsert.js';
export { isThreadId, newThreadId, parseThreadId, type ThreadId } from './thread-id.js';
export {
  defaultThreadMetadata,
  type ThreadHistoryModeValue,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
} from './thread-metadata.js';
export {
  allocateThreadTimes,
  type Clearable,
  deleteThread,
  findRolloutPathById,
  type GitInfoPatch,
  getThread,
  getThreads,
  inheritFirstUserMessage,
  insertSpawnEdge,
  insertThreadIfAbsent,
  type ListThreadsParams,
  listChildThreads,
  listDescendantThreads,
  listThreads,
  metadataToThreadRow,
  patchThreadMetadata,
  type SetArchivedParams,
  type SortDirection,
  type SpawnEdge,
  setSpawnEdgeStatus,
  setThreadArchived,
  spawnParentOfSource,
  type ThreadPage,
  type ThreadRow,
  type ThreadRowPatch,
  type ThreadSortKey,
  threadRowToMetadata,
  threadSortTime,
  touchThreadUpdatedAt,
  type UpsertResult,
  upsertThread,
} from './threads.js';
