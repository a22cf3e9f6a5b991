export {
  isThreadStoreError,
  rejectPaginatedHistoryMode,
  THREAD_STORE_ERROR_CODES,
  ThreadStoreError,
  type ThreadStoreErrorCode,
  toThreadStoreError,
  type UnsupportedOperation,
} from './errors.js';
export {
  gitInfoFromParts,
  gitInfoPatchFromObserved,
  hasObservedFacts,
  isGitInfoPatchEmpty,
  isThreadMetadataPatchEmpty,
  mergeGitInfoPatch,
  mergeThreadMetadataPatch,
  needsRolloutCompat,
  OBSERVED_FACT_FIELDS,
  resolveGitInfoPatch,
  sqliteWriteMustSucceed,
} from './patch.js';
export * from './schemas.js';
export { type ThreadStore, ThreadStoreBase } from './thread-store.js';
export type * from './types.js';
