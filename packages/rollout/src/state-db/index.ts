export {
  type BackfillFailure,
  type BackfillOptions,
  type BackfillOutcome,
  type BackfillProgress,
  DEFAULT_BACKFILL_BATCH,
  DEFAULT_BACKFILL_LEASE_MS,
  runBackfill,
} from './backfill.js';
export { type BackfillSummary, readBackfillSummary, requestReindex } from './backfill-status.js';
export { type BackfillFile, CwdNormalizer, collectRolloutFiles } from './files.js';
export { type FindThreadPathWithDbOptions, findThreadPathWithDb } from './find.js';
export {
  DEFAULT_BACKFILL_POLL_MS,
  DEFAULT_BACKFILL_WAIT_MS,
  type InitStateDbOptions,
  initStateDb,
  openStateDbIfReady,
  type StartedStateDb,
  startStateDb,
} from './init.js';
export {
  type ListThreadsWithDbOptions,
  listThreadsWithDb,
  type ThreadMetadataPage,
  threadListItemToMetadata,
} from './list.js';
export {
  beginRenameIntent,
  type SettledRenames,
  settleRenameIntents,
} from './rename-intents.js';
export {
  type RepairOptions,
  type RepairResult,
  readRepairRolloutPath,
  reconcileRolloutFile,
} from './repair.js';
export { hideUnreadableRollouts } from './unreadable.js';
