export {
  type AgentGraph,
  defaultAgentGraph,
  storeAgentGraph,
} from './agent-graph.js';
export {
  type HistoryPurpose,
  isThreadManagerError,
  THREAD_MANAGER_ERROR_CODES,
  ThreadManagerError,
  type ThreadManagerErrorCode,
} from './errors.js';
export {
  activeTurn,
  applyForkSnapshot,
  eventType,
  type ForkSnapshot,
  findTurnSpans,
  hasUserMessage,
  INTERRUPTED_TURN_MARKER,
  interruptionBoundary,
  isUserMessageItem,
  snapshotInterrupted,
  snapshotTruncateBeforeNthUserMessage,
  type TurnSpan,
  truncateBeforeTurn,
  truncateThroughTurn,
} from './history.js';
export { LoadedThread, type LoadedThreadInfo } from './loaded-thread.js';
export {
  deriveThreadStatus,
  type RuntimeFacts,
  type ThreadActiveFlag,
  type ThreadStatus,
} from './status.js';
export { ThreadManager } from './thread-manager.js';
export {
  type ConnectionId,
  DEFAULT_IDLE_UNLOAD_DELAY_MS,
  type ForkedThread,
  type ForkThreadOptions,
  type LoadedThreadPage,
  type ReadThreadOptions,
  type ResumedThread,
  type ResumeThreadOptions,
  type ShutdownReport,
  type SpawnSubagentOptions,
  type StartThreadOptions,
  type ThreadManagerEventName,
  type ThreadManagerEvents,
  type ThreadManagerOptions,
  type ThreadView,
  type UnsubscribeResult,
} from './types.js';
