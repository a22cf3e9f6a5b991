/**
 * Builders for the rollout items of a conversation, in the encodings Codex writes and reads.
 *
 * Codex shows a message only when every encoding it expects is present: a model-visible
 * `response_item` (what a resumed thread sends to the model) plus a display event (what
 * `thread/read` and the TUI show). Which display event depends on the thread's history mode:
 *
 * - `legacy` threads (Codex ≤ 0.131, and 0.169 homes without paginated history): an
 *   `event_msg` `user_message` / `agent_message`;
 * - `paginated` threads (Codex 0.169's default): an `event_msg` `item_completed` carrying a
 *   `UserMessage` / `AgentMessage` item, inside a turn opened by `task_started` and closed by
 *   `task_complete` (the turn id is how 0.169 projects items into turns).
 *
 * `turnItems` builds one complete question/answer turn; `userMessageItems` and
 * `assistantMessageItems` build the halves for programs that write as a conversation goes.
 * Times are taken from `atMs` (default now), so a caller can reproduce a file exactly.
 */
import { newThreadId } from '@skein/protocol';
import type { RolloutItem, ThreadHistoryMode, ThreadId } from './types.js';

/** Where a message belongs and when it was made. */
export interface MessageItemOptions {
  /** The thread's history mode: it selects the display encoding. Default `legacy`. */
  historyMode?: ThreadHistoryMode;
  /**
   * The thread the message is written to. Required for paginated threads: Codex 0.169 skips an
   * `item_completed` event without it when it re-reads a rollout (and then blanks the thread's
   * title and first message in its index, which hides the thread from `thread/list`).
   */
  threadId?: ThreadId;
  /** The turn the message belongs to (paginated threads need it). Default: a new UUIDv7. */
  turnId?: string;
  /** When the message was made, in ms since the epoch. Default `Date.now()`. */
  atMs?: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The legacy display event of a user message (`event_msg` `user_message`). */
export function userMessageItem(message: string): RolloutItem {
  return {
    type: 'event_msg',
    payload: { type: 'user_message', message, images: [], local_images: [], text_elements: [] },
  };
}

/** The legacy display event of an assistant message (`event_msg` `agent_message`). */
export function agentMessageItem(message: string): RolloutItem {
  return { type: 'event_msg', payload: { type: 'agent_message', message } };
}

/** The model-visible form of a user message (`response_item` message, role `user`). */
export function userResponseItem(text: string): RolloutItem {
  return {
    type: 'response_item',
    payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  };
}

/** The model-visible form of an assistant message (`response_item` message, role `assistant`). */
export function assistantResponseItem(text: string): RolloutItem {
  return {
    type: 'response_item',
    payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] },
  };
}

/**
 * A paginated thread's display item (`event_msg` `item_completed`) for a user or assistant
 * message: Codex 0.169's `UserMessage` (content parts `{type: 'text'}`) or `AgentMessage`
 * (content parts `{type: 'Text'}`), naming its thread and turn as 0.169 does.
 */
export function messageCompletedItem(
  role: 'user' | 'assistant',
  text: string,
  at: { threadId: ThreadId; turnId: string; atMs?: number },
): RolloutItem {
  const atMs = at.atMs ?? Date.now();
  const item =
    role === 'user'
      ? {
          type: 'UserMessage',
          id: newThreadId(atMs),
          content: [{ type: 'text', text, text_elements: [] }],
        }
      : {
          type: 'AgentMessage',
          id: `msg_${newThreadId(atMs).replaceAll('-', '').slice(-16)}`,
          content: [{ type: 'Text', text }],
        };
  return {
    type: 'event_msg',
    payload: {
      type: 'item_completed',
      thread_id: at.threadId,
      turn_id: at.turnId,
      item,
      started_at_ms: atMs,
      completed_at_ms: atMs,
    },
  };
}

/**
 * `task_started`: opens a turn. `startedAt` is in unix seconds. Paginated turns also carry
 * `root_turn_id` (the turn itself, for a turn that no other turn started).
 */
export function turnStartedItem(
  turnId: string,
  startedAt = seconds(Date.now()),
  historyMode: ThreadHistoryMode = 'legacy',
): RolloutItem {
  return {
    type: 'event_msg',
    payload: {
      type: 'task_started',
      turn_id: turnId,
      ...(historyMode === 'paginated' ? { root_turn_id: turnId } : {}),
      started_at: startedAt,
    },
  };
}

/**
 * `task_complete`: closes a turn, naming its last assistant message (null when it had none).
 * Times are unix seconds; `startedAt` (paginated turns) lets Codex show the duration.
 */
export function turnCompleteItem(
  turnId: string,
  lastAgentMessage: string | null = null,
  completedAt = seconds(Date.now()),
  options: { historyMode?: ThreadHistoryMode; startedAt?: number } = {},
): RolloutItem {
  const paginated = options.historyMode === 'paginated';
  const startedAt = options.startedAt ?? completedAt;
  return {
    type: 'event_msg',
    payload: {
      type: 'task_complete',
      turn_id: turnId,
      ...(paginated ? { root_turn_id: turnId } : {}),
      last_agent_message: lastAgentMessage,
      ...(paginated
        ? {
            started_at: startedAt,
            completed_at: completedAt,
            duration_ms: Math.max(0, (completedAt - startedAt) * 1000),
          }
        : { completed_at: completedAt }),
    },
  };
}

function paginatedPlace(
  options: MessageItemOptions,
  atMs: number,
): { threadId: ThreadId; turnId: string; atMs: number } {
  if (options.threadId === undefined) {
    throw new TypeError('a message of a paginated thread needs its threadId');
  }
  return { threadId: options.threadId, turnId: options.turnId ?? newThreadId(atMs), atMs };
}

/**
 * The items of one user message, without the turn markers: the `response_item` and, by
 * history mode, the `user_message` event (legacy) or the `item_completed` UserMessage
 * (paginated).
 */
export function userMessageItems(text: string, options: MessageItemOptions = {}): RolloutItem[] {
  const atMs = options.atMs ?? Date.now();
  if (options.historyMode === 'paginated') {
    const at = paginatedPlace(options, atMs);
    return [userResponseItem(text), messageCompletedItem('user', text, at)];
  }
  return [userResponseItem(text), userMessageItem(text)];
}

/**
 * The items of one assistant message, without the turn markers: by history mode the
 * `agent_message` event (legacy, after the `response_item`, as Codex 0.131 orders them) or the
 * `item_completed` AgentMessage (paginated, before it, as 0.169 orders them).
 */
export function assistantMessageItems(
  text: string,
  options: MessageItemOptions = {},
): RolloutItem[] {
  const atMs = options.atMs ?? Date.now();
  if (options.historyMode === 'paginated') {
    const at = paginatedPlace(options, atMs);
    return [messageCompletedItem('assistant', text, at), assistantResponseItem(text)];
  }
  return [assistantResponseItem(text), agentMessageItem(text)];
}

/**
 * One complete turn — `task_started`, the user's message, the assistant's reply,
 * `task_complete` — in the encodings of `historyMode` (default `legacy`).
 */
export function turnItems(
  userText: string,
  assistantText: string,
  options: MessageItemOptions = {},
): RolloutItem[] {
  const atMs = options.atMs ?? Date.now();
  const historyMode = options.historyMode ?? 'legacy';
  const turnId = options.turnId ?? newThreadId(atMs);
  const at = { ...options, historyMode, turnId };
  return [
    turnStartedItem(turnId, seconds(atMs), historyMode),
    ...userMessageItems(userText, { ...at, atMs }),
    ...assistantMessageItems(assistantText, { ...at, atMs: atMs + 1 }),
    turnCompleteItem(turnId, assistantText, seconds(atMs + 1), {
      historyMode,
      startedAt: seconds(atMs),
    }),
  ];
}

/** A user or assistant message as read back from a thread's history. */
export interface ConversationMessage {
  role: 'user' | 'assistant';
  text: string;
  /** The turn it was written in, when the history says. */
  turnId: string | null;
}

/**
 * The conversation of a history as Codex displays it: user and assistant messages in order,
 * from the display events (`item_completed` UserMessage/AgentMessage when the history has
 * them, as paginated threads do; else `user_message` / `agent_message`). Model-only
 * `response_item`s (instructions, environment context) are not part of it.
 */
export function conversationMessages(items: readonly RolloutItem[]): ConversationMessage[] {
  const completed: ConversationMessage[] = [];
  const events: ConversationMessage[] = [];
  let turnId: string | null = null;
  for (const item of items) {
    if (item.type !== 'event_msg') continue;
    const payload = item.payload as Record<string, unknown>;
    if (payload.type === 'task_started' && typeof payload.turn_id === 'string') {
      turnId = payload.turn_id;
    } else if (payload.type === 'user_message' && typeof payload.message === 'string') {
      events.push({ role: 'user', text: payload.message, turnId });
    } else if (payload.type === 'agent_message' && typeof payload.message === 'string') {
      events.push({ role: 'assistant', text: payload.message, turnId });
    } else if (payload.type === 'item_completed') {
      const message = completedMessage(payload.item);
      const ownTurn = typeof payload.turn_id === 'string' ? payload.turn_id : turnId;
      if (message !== null) completed.push({ ...message, turnId: ownTurn });
    }
  }
  return completed.length > 0 ? completed : events;
}

function completedMessage(item: unknown): Omit<ConversationMessage, 'turnId'> | null {
  if (typeof item !== 'object' || item === null) return null;
  const { type, content } = item as { type?: unknown; content?: unknown };
  const role = type === 'UserMessage' ? 'user' : type === 'AgentMessage' ? 'assistant' : null;
  if (role === null || !Array.isArray(content)) return null;
  const text = content
    .map((part: unknown) =>
      typeof part === 'object' &&
      part !== null &&
      typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
  return { role, text };
}
