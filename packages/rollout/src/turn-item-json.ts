/**
 * The app-server v2 `ThreadItem` JSON of a completed turn item (the `item` of a paginated
 * rollout's `event_msg item_completed`), as Codex 0.169 stores it in
 * `thread_history_1.thread_items.item_json` and answers it on the wire (minus the item's
 * times, which live in columns of their own). Known item kinds are mapped field by field;
 * any other kind keeps its fields with camelCase names and a lowerCamel `type`, so nothing
 * an item carries is dropped.
 */
type Json = Record<string, unknown>;

const asRecord = (value: unknown): Json | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;

/** `snake_case` / `PascalCase` → `camelCase`. */
export function camelCase(name: string): string {
  const parts = name.split('_').filter((part) => part !== '');
  const joined = parts
    .map((part, index) => (index === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
  return joined.charAt(0).toLowerCase() + joined.slice(1);
}

function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  const record = asRecord(value);
  if (record === null) return value;
  const out: Json = {};
  for (const [key, field] of Object.entries(record)) out[camelCase(key)] = camelKeys(field);
  return out;
}

/** The text of an agent message's content parts (`{"type":"Text","text":…}`). */
export function agentMessageText(item: Json): string {
  if (typeof item.text === 'string') return item.text;
  const content = Array.isArray(item.content) ? item.content : [];
  return content
    .map((part) => {
      const text = asRecord(part)?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}

function userContent(item: Json): unknown[] {
  const content = Array.isArray(item.content) ? item.content : [];
  return content.map((part) => {
    const record = asRecord(part);
    if (record === null) return part;
    if (record.type === 'text') {
      return {
        type: 'text',
        text: typeof record.text === 'string' ? record.text : '',
        text_elements: Array.isArray(record.text_elements) ? record.text_elements : [],
      };
    }
    return part;
  });
}

function collabAgentsStates(states: unknown): Json {
  const out: Json = {};
  for (const [threadId, state] of Object.entries(asRecord(states) ?? {})) {
    const record = asRecord(state);
    const status = typeof state === 'string' ? state : String(record?.status ?? 'unknown');
    out[threadId] = {
      status: camelCase(status),
      message: typeof record?.message === 'string' ? record.message : null,
    };
  }
  return out;
}

/** The v2 item JSON for a rollout turn item, or null when the item has no id or type. */
export function turnItemJson(itemValue: unknown): { itemType: string; json: Json } | null {
  const item = asRecord(itemValue);
  if (item === null || typeof item.type !== 'string' || typeof item.id !== 'string') return null;
  const id = item.id;
  switch (item.type) {
    case 'UserMessage':
      return {
        itemType: 'userMessage',
        json: {
          type: 'userMessage',
          id,
          clientId: typeof item.client_id === 'string' ? item.client_id : null,
          content: userContent(item),
        },
      };
    case 'AgentMessage':
      return {
        itemType: 'agentMessage',
        json: {
          type: 'agentMessage',
          moderation: null,
          id,
          text: agentMessageText(item),
          phase: typeof item.phase === 'string' ? item.phase : null,
          memoryCitation: item.memory_citation ?? null,
          delivery: null,
          questions: null,
        },
      };
    case 'CollabAgentToolCall':
      return {
        itemType: 'collabAgentToolCall',
        json: {
          type: 'collabAgentToolCall',
          id,
          tool: camelCase(String(item.tool ?? '')),
          status: camelCase(String(item.status ?? 'completed')),
          senderThreadId: item.sender_thread_id ?? null,
          receiverThreadIds: Array.isArray(item.receiver_thread_ids)
            ? item.receiver_thread_ids
            : [],
          prompt: item.prompt ?? null,
          model: item.model ?? null,
          reasoningEffort: item.reasoning_effort ?? null,
          agentsStates: collabAgentsStates(item.agents_states),
        },
      };
    default: {
      const itemType = camelCase(item.type);
      const json = camelKeys(item) as Json;
      json.type = itemType;
      return { itemType, json };
    }
  }
}
