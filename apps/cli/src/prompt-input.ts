/**
 * Rebuilds the model-visible input (the Responses API `input` items) a resumed thread would
 * send, from its rollout lines alone: response items in order, a `compacted` line replacing
 * everything before it, a rollback dropping the last N user turns. Used by
 * `skein debug prompt-input`, which must work without any SQLite file.
 */

type Json = Record<string, unknown>;

export interface PromptLine {
  type: string;
  payload: unknown;
  ordinal?: number | undefined;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Response item kinds that never reach the model. */
const NOT_MODEL_VISIBLE = new Set(['ghost_snapshot', 'compaction_trigger']);

function isUserTurnStart(item: Json): boolean {
  if (item.type !== 'message' || item.role !== 'user') return false;
  const content = Array.isArray(item.content) ? item.content : [];
  const first = content.find(isObject);
  const text = first && typeof first.text === 'string' ? first.text.trimStart() : '';
  // Injected context (environment, instructions, notifications) is not a user turn.
  return !(
    text.startsWith('<environment_context>') ||
    text.startsWith('<user_instructions>') ||
    text.startsWith('# AGENTS.md instructions') ||
    text.startsWith('<subagent_notification>') ||
    text.startsWith('<turn_aborted>')
  );
}

export interface PromptInput {
  items: Json[];
  /** How the history was shaped: compactions applied, rollbacks applied. */
  compactions: number;
  rollbacks: number;
}

export function reconstructPromptInput(lines: readonly PromptLine[]): PromptInput {
  let items: Json[] = [];
  let compactions = 0;
  let rollbacks = 0;
  for (const line of lines) {
    const payload = line.payload;
    if (!isObject(payload)) continue;
    if (line.type === 'response_item') {
      if (typeof payload.type === 'string' && !NOT_MODEL_VISIBLE.has(payload.type)) {
        items.push(payload);
      }
    } else if (line.type === 'compacted') {
      compactions += 1;
      const replacement = payload.replacement_history;
      if (Array.isArray(replacement)) {
        items = replacement.filter(
          (item): item is Json =>
            isObject(item) && typeof item.type === 'string' && !NOT_MODEL_VISIBLE.has(item.type),
        );
      } else {
        // Old compactions kept only the user's messages plus the summary as a user message.
        const userMessages = items.filter(isUserTurnStart);
        const summary = typeof payload.message === 'string' ? payload.message : '';
        items = [
          ...userMessages,
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: summary }] },
        ];
      }
    } else if (line.type === 'event_msg' && payload.type === 'thread_rolled_back') {
      const turns = typeof payload.num_turns === 'number' ? payload.num_turns : 0;
      if (turns > 0) {
        rollbacks += 1;
        let seen = 0;
        for (let i = items.length - 1; i >= 0; i -= 1) {
          const item = items[i];
          if (item && isUserTurnStart(item)) {
            seen += 1;
            if (seen === turns) {
              items = items.slice(0, i);
              break;
            }
          }
        }
        if (seen < turns) items = [];
      }
    }
  }
  return { items, compactions, rollbacks };
}
