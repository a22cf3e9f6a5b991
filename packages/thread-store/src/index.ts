/** A new thread id (UUIDv7, time-ordered), as Codex makes them. */
export { newThreadId } from '@skein/state';
export {
  isThreadStoreError,
  rejectPaginatedHistoryMode,
  THREAD_STORE_ERROR_CODES,
  ThreadStoreError,
  type ThreadStoreErrorCode,
  toThreadStoreError,
  type UnreadableRollout,
  type UnsupportedOperation,
  unreadableRolloutError,
  unreadableRolloutOf,
} from './errors.js';
export { collectGitInfo, gitInfoFromRolloutGit } from './git-info.js';
export {
  InMemoryThreadStore,
  type InMemoryThreadStoreCall,
  type InMemoryThreadStoreCalls,
} from './in-memory.js';
export {
  eventType,
  isPersistedRolloutItem,
  itemAffectsThreadMetadata,
  persistedRolloutItems,
} from './items.js';
export {
  type LiveRolloutPathSource,
  LiveThread,
  LiveThreadInitGuard,
  type LiveThreadOptions,
} from './live-thread.js';
export { linkOutsideHomeMessage, rolloutLinkOutsideHome } from './local/home-links.js';
export {
  LocalThreadStore,
  type LocalThreadStoreConfig,
} from './local/local-thread-store.js';
export { deleteRolloutFile } from './local/rollout-scope.js';
export {
  agentMessageItem,
  assistantMessageItems,
  assistantResponseItem,
  type ConversationMessage,
  conversationMessages,
  type MessageItemOptions,
  messageCompletedItem,
  turnCompleteItem,
  turnItems,
  turnStartedItem,
  userMessageItem,
  userMessageItems,
  userResponseItem,
} from './messages.js';
export {
  type PendingMetadataUpdate,
  THREAD_UPDATED_AT_TOUCH_INTERVAL_MS,
  ThreadMetadataSync,
  type ThreadMetadataSyncOptions,
} from './metadata-sync.js';
export {
  assertThreadMetadataPatchBounds,
  gitInfoFromParts,
  gitInfoPatchFromObserved,
  hasObservedFacts,
  isGitInfoPatchEmpty,
  isThreadMetadataPatchEmpty,
  MAX_THREAD_NAME_BYTES,
  mergeGitInfoPatch,
  mergeThreadMetadataPatch,
  needsRolloutCompat,
  OBSERVED_FACT_FIELDS,
  resolveGitInfoPatch,
  sqliteWriteMustSucceed,
  threadRowPatchOf,
} from './patch.js';
export * from './schemas.js';
export {
  containsTerm,
  recordSnippet,
  type SearchableRecord,
  SNIPPET_CHARS_AFTER,
  SNIPPET_CHARS_BEFORE,
  snippetAround,
  validateSearchParams,
  visibleText,
} from './search-text.js';
export {
  type SessionMetaContext,
  type SpawnFacts,
  sessionMetaForCreate,
  spawnFactsOf,
} from './session-meta.js';
export { type ThreadStore, ThreadStoreBase } from './thread-store.js';
export {
  type ItemPageOptions,
  pageItems,
  pageTurns,
  type RolloutLine,
  type TurnPageOptions,
} from './turns.js';
export type * from './types.js';
export { SKEIN_CLI_VERSION } from './version.js';
