/**
 * `skein`: durable, Codex-compatible threads in a TypeScript program, and the `skein` command.
 *
 * `openCodexHome(dir)` is the common case (create a thread, append user and assistant
 * messages, read, list). The message builders and the types below are the ones the lower
 * layers use; reach for `@skein/thread-manager`, `@skein/thread-store`, `@skein/rollout` and
 * `@skein/state` (or `home.manager`, `home.store`, `home.stateDb`) for everything else.
 */
export type { StateDb } from '@skein/state';
export {
  agentMessageItem,
  assistantMessageItems,
  assistantResponseItem,
  type ConversationMessage,
  conversationMessages,
  type MessageItemOptions,
  messageCompletedItem,
  type RolloutItem,
  type SessionSource,
  type ThreadHistoryMode,
  type ThreadId,
  turnCompleteItem,
  turnItems,
  turnStartedItem,
  userMessageItem,
  userMessageItems,
  userResponseItem,
} from '@skein/thread-store';
export {
  type CodexHome,
  type CodexThread,
  type CodexThreads,
  type CreateThreadOptions,
  type ListThreadsOptions,
  type OpenCodexHomeOptions,
  openCodexHome,
  type ThreadContents,
  type ThreadSummary,
} from './codex-home.js';
