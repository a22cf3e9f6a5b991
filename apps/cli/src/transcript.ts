import type { RolloutItem } from '@skein/thread-store';
import { oneLine } from './format.js';
import type { Colors } from './output.js';

/**
 * A readable transcript from rollout items: user and assistant messages in full, tool calls
 * and reasoning folded to one line each, turn boundaries as rules. Works for both disk
 * formats: legacy (`user_message`/`agent_message` events) and 0.169 paginated
 * (`item_completed` events). Unknown kinds are skipped: rendering never fails on new input.
 */
export type TranscriptEntry =
  | { kind: 'turn'; index: number; timestamp: string | null }
  | { kind: 'user'; text: string }
  | { kind: 'assistant'; text: string }
  | { kind: 'tool'; name: string; input: string; output: string | null; callId: string | null }
  | { kind: 'reasoning'; text: string }
  | { kind: 'note'; text: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (!isObject(part)) continue;
    const text = str(part.text);
    if (text !== null) parts.push(text);
    else if (part.type === 'input_image' || part.type === 'image' || part.type === 'Image') {
      parts.push('[Image]');
    }
  }
  return parts.join('\n');
}

/** Context blocks Codex injects as user-role messages; they are not what the user typed. */
function isInjectedContext(text: string): boolean {
  const start = text.trimStart();
  return (
    start.startsWith('<environment_context>') ||
    start.startsWith('<user_instructions>') ||
    start.startsWith('<subagent_notification>') ||
    start.startsWith('# AGENTS.md instructions') ||
    start.startsWith('<turn_aborted>')
  );
}

/** Does the history carry user/assistant messages as events (the readable form)? */
function hasMessageEvents(items: readonly RolloutItem[]): boolean {
  return items.some((item) => {
    if (item.type !== 'event_msg' || !isObject(item.payload)) return false;
    const type = item.payload.type;
    if (type === 'user_message' || type === 'agent_message') return true;
    if (type === 'item_completed' && isObject(item.payload.item)) {
      const itemType = item.payload.item.type;
      return itemType === 'UserMessage' || itemType === 'AgentMessage';
    }
    return false;
  });
}

function toolInput(payload: Json): string {
  const args = payload.arguments ?? payload.input ?? payload.action ?? payload.query;
  if (typeof args === 'string') return args;
  if (args === undefined) return '';
  return JSON.stringify(args);
}

function toolOutput(payload: Json): string {
  const output = payload.output;
  if (typeof output === 'string') return output;
  if (isObject(output) && typeof output.content === 'string') return output.content;
  if (Array.isArray(output)) return textOfContent(output);
  return output === undefined ? '' : JSON.stringify(output);
}

/** `turnsBefore`: turns already shown (a fork's inherited part), so numbering continues. */
export function buildTranscript(items: readonly RolloutItem[], turnsBefore = 0): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  const fromEvents = hasMessageEvents(items);
  const toolsByCallId = new Map<string, Extract<TranscriptEntry, { kind: 'tool' }>>();
  let turn = turnsBefore;
  let sawSessionMeta = false;

  for (const item of items) {
    const payload = isObject(item.payload) ? item.payload : {};
    switch (item.type) {
      case 'session_meta': {
        // Forks copy their parent's meta lines after their own: only the first is this thread.
        if (sawSessionMeta) break;
        sawSessionMeta = true;
        const forkedFrom = str(payload.forked_from_id);
        if (forkedFrom) entries.push({ kind: 'note', text: `forked from ${forkedFrom}` });
        break;
      }
      case 'event_msg': {
        const type = payload.type;
        if (type === 'task_started' || type === 'turn_started') {
          turn += 1;
          entries.push({ kind: 'turn', index: turn, timestamp: null });
        } else if (type === 'user_message' && fromEvents) {
          const images =
            (Array.isArray(payload.images) ? payload.images.length : 0) +
            (Array.isArray(payload.local_images) ? payload.local_images.length : 0);
          const text = str(payload.message) ?? '';
          entries.push({
            kind: 'user',
            text: text.trim() === '' && images > 0 ? '[Image]' : text,
          });
        } else if (type === 'agent_message' && fromEvents) {
          entries.push({ kind: 'assistant', text: str(payload.message) ?? '' });
        } else if (type === 'item_completed' && isObject(payload.item)) {
          const turnItem = payload.item;
          if (turnItem.type === 'UserMessage' && fromEvents) {
            entries.push({ kind: 'user', text: textOfContent(turnItem.content) });
          } else if (turnItem.type === 'AgentMessage' && fromEvents) {
            entries.push({ kind: 'assistant', text: textOfContent(turnItem.content) });
          }
        } else if (type === 'turn_aborted') {
          entries.push({
            kind: 'note',
            text: `turn aborted (${str(payload.reason) ?? 'unknown'})`,
          });
        } else if (type === 'thread_name_updated') {
          entries.push({ kind: 'note', text: `renamed to "${str(payload.thread_name) ?? ''}"` });
        } else if (type === 'thread_rolled_back') {
          entries.push({
            kind: 'note',
            text: `rolled back ${String(payload.num_turns ?? '?')} turn(s)`,
          });
        } else if (type === 'context_compacted') {
          entries.push({ kind: 'note', text: 'context compacted' });
        }
        break;
      }
      case 'response_item': {
        const type = payload.type;
        if (type === 'message' && !fromEvents) {
          const text = textOfContent(payload.content);
          if (payload.role === 'user' && !isInjectedContext(text)) {
            entries.push({ kind: 'user', text });
          } else if (payload.role === 'assistant') {
            entries.push({ kind: 'assistant', text });
          }
        } else if (
          type === 'function_call' ||
          type === 'custom_tool_call' ||
          type === 'local_shell_call' ||
          type === 'web_search_call' ||
          type === 'tool_search_call' ||
          type === 'image_generation_call'
        ) {
          const name =
            str(payload.name) ??
            (type === 'local_shell_call' ? 'shell' : type.replace(/_call$/, ''));
          const entry: Extract<TranscriptEntry, { kind: 'tool' }> = {
            kind: 'tool',
            name,
            input: toolInput(payload),
            output: null,
            callId: str(payload.call_id),
          };
          entries.push(entry);
          if (entry.callId) toolsByCallId.set(entry.callId, entry);
        } else if (
          type === 'function_call_output' ||
          type === 'custom_tool_call_output' ||
          type === 'tool_search_output'
        ) {
          const callId = str(payload.call_id);
          const call = callId ? toolsByCallId.get(callId) : undefined;
          if (call) call.output = toolOutput(payload);
          else
            entries.push({
              kind: 'tool',
              name: 'output',
              input: '',
              output: toolOutput(payload),
              callId,
            });
        } else if (type === 'reasoning') {
          const summary = Array.isArray(payload.summary) ? textOfContent(payload.summary) : '';
          entries.push({ kind: 'reasoning', text: summary });
        }
        break;
      }
      case 'compacted':
        entries.push({ kind: 'note', text: 'history compacted' });
        break;
      default:
        break;
    }
  }
  return entries;
}

export interface RenderOptions {
  color: Colors;
  /** Unfold tool calls and reasoning (full input and output). */
  full: boolean;
  width: number;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

export function renderTranscript(
  entries: readonly TranscriptEntry[],
  options: RenderOptions,
): string {
  const { color: c, full } = options;
  const width = Math.max(40, Math.min(options.width, 120));
  const lines: string[] = [];
  for (const entry of entries) {
    switch (entry.kind) {
      case 'turn': {
        const label = ` turn ${entry.index} `;
        lines.push('', c.dim(`──${label}${'─'.repeat(Math.max(4, width - label.length - 2))}`));
        break;
      }
      case 'user':
        lines.push(c.bold(c.cyan('you')), indent(entry.text, '  '));
        break;
      case 'assistant':
        lines.push(c.bold(c.green('assistant')), indent(entry.text, '  '));
        break;
      case 'tool': {
        if (full) {
          lines.push(c.magenta(`  ⚙ ${entry.name}`));
          if (entry.input) lines.push(indent(entry.input, c.dim('    │ ')));
          if (entry.output !== null) lines.push(indent(entry.output, c.dim('    → ')));
        } else {
          const outputLines = entry.output === null ? 0 : entry.output.split('\n').length;
          const summary =
            entry.output === null
              ? c.dim('(no output)')
              : c.dim(`→ ${outputLines} line${outputLines === 1 ? '' : 's'}`);
          lines.push(
            `${c.magenta(`  ⚙ ${entry.name}`)} ${c.dim(oneLine(entry.input, Math.max(20, width - entry.name.length - 20)))} ${summary}`,
          );
        }
        break;
      }
      case 'reasoning':
        if (full && entry.text) lines.push(c.dim(indent(entry.text, '  ∴ ')));
        else
          lines.push(
            c.dim(`  ∴ reasoning${entry.text ? `: ${oneLine(entry.text, width - 20)}` : ''}`),
          );
        break;
      case 'note':
        lines.push(c.yellow(`  · ${entry.text}`));
        break;
    }
  }
  return lines.join('\n').replace(/^\n+/, '');
}
