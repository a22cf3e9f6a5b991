/**
 * Test support for ThreadStore implementations: the conformance suite (needs vitest, an
 * optional peer dependency) and item/parameter builders.
 */
export {
  describeThreadStoreConformance,
  expectThreadStoreError,
  type ThreadStoreCapabilities,
  type ThreadStoreConformanceOptions,
  type ThreadStoreHarness,
} from './conformance.js';
export {
  agentMessageItem,
  assistantResponseItem,
  createThreadParams,
  droppedEventItem,
  paginatedTurnItems,
  resumeThreadParams,
  tokenCountItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from './items.js';
