/** Builders for rollout items and store parameters, shared by store tests and the suite. */
import { newThreadId } from '@skein/state';
import type { CreateThreadParams, ResumeThreadParams, RolloutItem, ThreadId } from '../types.js';

export function userMessageItem(message: string): RolloutItem {
  return {
    type: 'event_msg',
    payload: { type: 'user_message', message, images: [], local_images: [], text_elements: [] },
  };
}

export function agentMessageItem(message: string): RolloutItem {
  return { type: 'event_msg', payload: { type: 'agent_message', message } };
}

export function assistantResponseItem(text: string): RolloutItem {
  return {
    type: 'response_item',
    payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] },
  };
}

export function turnStartedItem(
  turnId: string,
  startedAt = Math.floor(Date.now() / 1000),
): RolloutItem {
  return {
    type: 'event_msg',
    payload: { type: 'task_started', turn_id: turnId, started_at: startedAt },
  };
}

export function turnCompleteItem(
  turnId: string,
  lastAgentMessage: string | null = null,
  completedAt = Math.floor(Date.now() / 1000),
): RolloutItem {
  return {
    type: 'event_msg',
    payload: {
      type: 'task_complete',
      turn_id: turnId,
      last_agent_message: lastAgentMessage,
      completed_at: completedAt,
    },
  };
}

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
 * projection reads): `task_started`, the user's message as a response item and an
 * `item_completed` UserMessage, the agent's reply as an `item_completed` AgentMessage and a
 * response item, then `task_complete`.
 */
export function paginatedTurnItems(
  turnId: string,
  userText: string,
  agentText: string,
  atMs = Date.now(),
): RolloutItem[] {
  const seconds = Math.floor(atMs / 1000);
  const userItemId = newThreadId(atMs);
  const agentItemId = `msg_${turnId.replaceAll('-', '').slice(-16)}`;
  const completed = (item: Record<string, unknown>, ms: number): RolloutItem => ({
    type: 'event_msg',
    payload: {
      type: 'item_completed',
      turn_id: turnId,
      item,
      started_at_ms: ms,
      completed_at_ms: ms,
    },
  });
  return [
    {
      type: 'event_msg',
      payload: { type: 'task_started', turn_id: turnId, root_turn_id: turnId, started_at: seconds },
    },
    {
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: userText }] },
    },
    completed(
      {
        type: 'UserMessage',
        id: userItemId,
        content: [{ type: 'text', text: userText, text_elements: [] }],
      },
      atMs,
    ),
    completed(
      { type: 'AgentMessage', id: agentItemId, content: [{ type: 'Text', text: agentText }] },
      atMs + 1,
    ),
    assistantResponseItem(agentText),
    {
      type: 'event_msg',
      payload: {
        type: 'task_complete',
        turn_id: turnId,
        root_turn_id: turnId,
        last_agent_message: agentText,
        started_at: seconds,
        completed_at: seconds,
        duration_ms: 1,
      },
    },
  ];
}
