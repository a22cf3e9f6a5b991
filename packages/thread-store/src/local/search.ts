/**
 * Content search over rollouts (spec rollout-state §4.9, thread-store §4.9): a case-insensitive
 * literal match in the visible conversation (user and agent messages), with a snippet of the
 * first match. Files are streamed, never read whole into one string.
 */
import { type RolloutLine, streamRollout } from '@skein/rollout';

const SNIPPET_BEFORE = 48;
const SNIPPET_AFTER = 96;

function textParts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text;
    if (typeof text === 'string') out.push(text);
  }
  return out;
}

/** The visible text a line carries (user/agent messages), or null. */
export function visibleText(line: RolloutLine): string | null {
  if (line.type === 'event_msg') {
    const payload = line.payload as Record<string, unknown>;
    if (
      (payload.type === 'user_message' || payload.type === 'agent_message') &&
      typeof payload.message === 'string'
    ) {
      return payload.message;
    }
    if (payload.type === 'item_completed') {
      const item = payload.item as { type?: unknown; content?: unknown; text?: unknown } | null;
      if (item?.type === 'UserMessage') return textParts(item.content).join('\n');
      if (item?.type === 'AgentMessage') {
        return typeof item.text === 'string' ? item.text : textParts(item.content).join('\n');
      }
    }
    return null;
  }
  if (line.type === 'response_item') {
    const payload = line.payload as Record<string, unknown>;
    if (payload.type === 'message' && (payload.role === 'user' || payload.role === 'assistant')) {
      return textParts(payload.content).join('\n');
    }
  }
  return null;
}

/** A snippet around the first match: whitespace collapsed, 48 chars before, 96 after. */
export function snippetAround(text: string, term: string): string | null {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  const at = collapsed.toLowerCase().indexOf(term.toLowerCase());
  if (at < 0) return null;
  const start = Math.max(0, at - SNIPPET_BEFORE);
  const end = Math.min(collapsed.length, at + term.length + SNIPPET_AFTER);
  return `${start > 0 ? '... ' : ''}${collapsed.slice(start, end)}${end < collapsed.length ? ' ...' : ''}`;
}

/** The snippet of the first visible match in a rollout, or null when it does not match. */
export async function searchRolloutFile(path: string, term: string): Promise<string | null> {
  let snippet: string | null = null;
  const needle = term.toLowerCase();
  await streamRollout(path, (line) => {
    const text = visibleText(line);
    if (text === null || !text.toLowerCase().includes(needle)) return true;
    snippet = snippetAround(text, term);
    return snippet === null;
  });
  return snippet;
}
