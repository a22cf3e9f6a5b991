// The shared vocabulary this package's API speaks, declared in @skein/protocol.
// A thread's row is shared vocabulary (declared in @skein/protocol); re-exported because every
// state query takes and returns it.
export {
  type ClearableField,
  decodeThreadCursor,
  defaultThreadMetadata,
  encodeThreadCursor,
  type GitInfoPatch,
  isThreadId,
  newThreadId,
  parseThreadId,
  type SortDirection,
  type ThreadCursor,
  type ThreadHistoryModeValue,
  type ThreadId,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
  type ThreadSortKey,
} from '@skein/protocol';
export {
  abandonBackfill,
  BACKFILL_LEASE,
  type BackfillClaim,
  type BackfillHost,
  type BackfillState,
  CODEX_BACKFILL_LEASE_SECONDS,
  checkpointBackfill,
  claimBackfill,
  ensureBackfillState,
  markBackfillComplete,
  readBackfillState,
  resetBackfill,
} from './backfill-state.js';
export type { BulkThreadImport } from './bulk-import.js';
export { dataVersion, dbChangeStamp } from './change-stamp.js';
export { TimestampAllocator } from './clock.js';
export { createStateContext, type StateContext, seedStateClocks } from './context.js';
export {
  afterThreadCursor,
  containsText,
  detectStateSqlDialect,
  type StateSqlDialect,
} from './dialect.js';
export type { DoctorFinding, DoctorSeverity } from './doctor/finding.js';
export { dropProjectionRowsFrom, projectedThreadIds, projectionKeys } from './doctor/projection.js';
export {
  inspectStateDb,
  type StateDbFinding,
  type StateDbFindingKind,
  type StateDbInspection,
  StateDbReader,
  type StateDbSummary,
} from './doctor/state-db.js';
export { StateError, type StateErrorCode } from './errors.js';
export {
  HistoryDb,
  type ProjectedItem,
  type ProjectedTurn,
  type ProjectionState,
  type ProjectionUpdate,
} from './history-db.js';
export {
  CODEX_HISTORY_DB_FILE,
  CODEX_STATE_DB_FILE,
  describeIdentity,
  identifySchema,
  KNOWN_HISTORY_SCHEMAS,
  KNOWN_STATE_SCHEMAS,
  type MigrationRow,
  type RecordedCodexDb,
  type SchemaIdentity,
} from './known-schemas.js';
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
  type LeaseHost,
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
  codexThreadsProfile,
  profileHas,
  SKEIN_THREADS_PROFILE,
  sortColumnOf,
  storesLegacySandboxPolicy,
  type ThreadsProfile,
} from './profile.js';
export { settledBefore, wallClockNs } from './racy-stat.js';
export {
  type FirstUnread,
  hasReadReceipts,
  initialReadState,
  publishTurnReadReceipt,
  type ReadState,
  type ReadStateOperation,
  readReadStates,
  updateReadState,
} from './read-receipts.js';
export { type RecoveredDbs, recoveryNotes } from './recovery.js';
export {
  type OpenStateRuntimeOptions,
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
  ThreadReadReceiptsTable,
  ThreadSpawnEdgesTable,
  ThreadsTable,
} from './schema.js';
export {
  dropRenameIntent,
  isRenameIntentAbandoned,
  listRenameIntents,
  type NewRenameIntent,
  RENAME_INTENT_STALE_MS,
  type RenameIntent,
  recordRenameIntent,
} from './sidecar/rename-intents.js';
export { SIDECAR_FILE_NAME, type SidecarDatabase } from './sidecar.js';
export type { BatchUpsertEntry, BatchUpsertOptions } from './sqlite-upsert.js';
export {
  type CountThreadsFilter,
  countListableThreads,
  countListableThreadsWithin,
  type NarrowerFilter,
} from './threads/count.js';
export {
  applyThreadRowPatch,
  patchThreadMetadata,
  storedThreadName,
  type ThreadRowPatch,
} from './threads/patch.js';
export {
  findRolloutPathById,
  getThread,
  getThreadLocations,
  getThreads,
  type ListThreadsParams,
  listThreads,
  MAX_THREAD_PAGE_SIZE,
  paginatedThreadsCreatedSince,
  selectThreadRows,
  type ThreadLocation,
  type ThreadPage,
  threadSortTime,
} from './threads/read.js';
export {
  metadataToRow,
  rowToMetadata,
  secondsOf,
  type ThreadRow,
  threadRowToMetadata,
} from './threads/row.js';
export {
  insertSpawnEdge,
  listChildThreads,
  listDescendantThreads,
  type SpawnEdge,
  setSpawnEdgeStatus,
  spawnParentOfSource,
} from './threads/spawn-edges.js';
export {
  allocateThreadTimes,
  assertWritable,
  deleteThread,
  hideUnreadableThread,
  inheritFirstUserMessage,
  insertThreadIfAbsent,
  type SetArchivedParams,
  setThreadArchived,
  touchThreadUpdatedAt,
  type UpsertResult,
  upsertThread,
} from './threads/write.js';
export { writeTransaction } from './transactions.js';
