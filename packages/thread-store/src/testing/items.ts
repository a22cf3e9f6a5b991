/**
 * Builders for store parameters and test-only items, shared by store tests and the suite. The
 * message builders are public (`../messages.ts`) and re-exported here for existing tests.
 */
import { newThreadId } from '@skein/protocol';
import { turnItems } from '../messages.js';
import type { CreateThreadParams, ResumeThreadParams, RolloutItem, ThreadId } from '../types.js';

/** A `turn_context` item (cwd, model, policies), optionally for a turn. */
export function turnContextItem(cwd: string, model = 'gpt-test', turnId?: string): RolloutItem {
  return {
    type: 'turn_context',
    payload: {
      ...(turnId === undefined ? {} : { turn_id: turnId }),
      cwd,
      approval_policy: 'never',
      sandbox_policy: { type: 'read-only' },
      model,
      effort: 'medium',
      summary: 'auto',
    },
  };
}

/** An `event_msg` `token_count` with the given total. */
export function tokenCountItem(totalTokens: number): RolloutItem {
  const usage = {
    input_tokens: totalTokens,
    cached_input_tokens: 0,
    output_tokens: 0,
    reasoning_output_tokens: 0,
    total_tokens: totalTokens,
  };
  return {
    type: 'event_msg',
    payload: {
      type: 'token_count',
      info: { total_token_usage: usage, last_token_usage: usage, model_context_window: 1000 },
    },
  };
}

/** An event the persistence policy drops (never written to history). */
export function droppedEventItem(): RolloutItem {
  return {
    type: 'event_msg',
    payload: { type: 'exec_command_begin', call_id: 'call-1', command: ['true'] },
  };
}

/**
 * `CreateThreadParams` for a test thread in `cwd` (a new id, source `cli`, a test provider), with
 * overrides.
 */
export function createThreadParams(
  cwd: string | null,
  overrides: Partial<CreateThreadParams> = {},
): CreateThreadParams {
  const threadId: ThreadId = overrides.threadId ?? newThreadId();
  return {
    threadId,
    source: 'cli',
    originator: 'skein_test',
    baseInstructions: null,
    dynamicTools: [],
    metadata: { cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
    ...overrides,
  };
}

/** `ResumeThreadParams` for a test resume of `threadId`, with overrides. */
export function resumeThreadParams(
  threadId: ThreadId,
  cwd: string | null,
  overrides: Partial<ResumeThreadParams> = {},
): ResumeThreadParams {
  return {
    threadId,
    includeArchived: false,
    metadata: { cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
    ...overrides,
  };
}

/**
 * One complete turn in Codex 0.169's paginated encoding (what its own turns write and what its
 * projection reads), via the public `turnItems`. `threadId` defaults to a fresh id: the store
 * tests check ordinals and the projection, not Codex re-reading the file.
 */
export function paginatedTurnItems(
  turnId: string,
  userText: string,
  agentText: string,
  atMs = Date.now(),
  threadId: ThreadId = newThreadId(atMs),
): RolloutItem[] {
  return turnItems(userText, agentText, { historyMode: 'paginated', turnId, atMs, threadId });
}

export {
  agentMessageItem,
  assistantResponseItem,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '../messages.js';
