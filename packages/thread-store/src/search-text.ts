/**
 * The one content-search rule every store applies (spec rollout-state §4.9): what text of a
 * history record is visible conversation, when it matches a term, and the snippet shown for the
 * first match. Records are plain `{type, payload}` (a rollout line, a stored item's JSON), so
 * the local store (reading rollouts) and the PostgreSQL store (reading item rows) share it; the
 * PostgreSQL SQL that finds matches mirrors `visibleText` line for line.
 */
import { MAX_THREAD_PAGE_SIZE } from '@skein/state';
import { ThreadStoreError } from './errors.js';
import type { SearchThreadsParams } from './types.js';

/** Characters of collapsed text kept before the match in a snippet. */
export const SNIPPET_CHARS_BEFORE = 48;
/** Characters of collapsed text kept after the match in a snippet. */
export const SNIPPET_CHARS_AFTER = 96;

/** A history record as stored: a kind and an untyped payload. */
export interface SearchableRecord {
  readonly type: unknown;
  readonly payload: unknown;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** The `text` of each content part that has a string one, in order; nothing for a non-array. */
function textParts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const part of content) {
    const text = field(part, 'text');
    if (typeof text === 'string') out.push(text);
  }
  return out;
}

/**
 * The visible conversation text a record carries, or null when it carries none:
 * - `event_msg` `user_message` / `agent_message`: its string `message`;
 * - `event_msg` `item_completed` with a `UserMessage`: its content parts' texts joined by '\n';
 *   with an `AgentMessage`: its string `text`, else its content parts' texts joined by '\n';
 * - `response_item` `message` of role `user` or `assistant`: its content parts' texts joined
 *   by '\n'.
 * Everything else (tool output, reasoning, system and developer messages, errors) is not.
 */
export function visibleText(record: SearchableRecord): string | null {
  const payload = record.payload;
  const kind = field(payload, 'type');
  if (record.type === 'event_msg') {
    const message = field(payload, 'message');
    if ((kind === 'user_message' || kind === 'agent_message') && typeof message === 'string') {
      return message;
    }
    if (kind === 'item_completed') {
      const item = field(payload, 'item');
      const itemType = field(item, 'type');
      if (itemType === 'UserMessage') return textParts(field(item, 'content')).join('\n');
      if (itemType === 'AgentMessage') {
        const text = field(item, 'text');
        return typeof text === 'string' ? text : textParts(field(item, 'content')).join('\n');
      }
    }
    return null;
  }
  if (record.type === 'response_item' && kind === 'message') {
    const role = field(payload, 'role');
    if (role === 'user' || role === 'assistant') {
      return textParts(field(payload, 'content')).join('\n');
    }
  }
  return null;
}

/** Whether `text` contains `term` as a literal, case-insensitive substring. */
export function containsTerm(text: string, term: string): boolean {
  return text.toLowerCase().includes(term.toLowerCase());
}

/** Whitespace runs as one space, trimmed: how a snippet shows text on one line. */
function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * A one-line snippet around the first match of `term` in `text`: whitespace collapsed, up to
 * 48 characters before the match and 96 after it, with '... ' / ' ...' where text was cut.
 * The term's whitespace is collapsed the same way, so a term spanning a line break or with
 * outer spaces still finds the text it matched. Null when the text does not contain it.
 */
export function snippetAround(text: string, term: string): string | null {
  const collapsed = collapseWhitespace(text);
  const needle = collapseWhitespace(term);
  if (needle === '') return null;
  const at = collapsed.toLowerCase().indexOf(needle.toLowerCase());
  if (at < 0) return null;
  const start = Math.max(0, at - SNIPPET_CHARS_BEFORE);
  const end = Math.min(collapsed.length, at + needle.length + SNIPPET_CHARS_AFTER);
  const head = start > 0 ? '... ' : '';
  const tail = end < collapsed.length ? ' ...' : '';
  return `${head}${collapsed.slice(start, end)}${tail}`;
}

/** The snippet a record contributes when its visible text contains `term`, else null. */
export function recordSnippet(record: SearchableRecord, term: string): string | null {
  const text = visibleText(record);
  if (text === null || !containsTerm(text, term)) return null;
  return snippetAround(text, term);
}

/**
 * The checks every store makes before searching: a term with something besides whitespace,
 * and a page size of at least 1 (truncated, capped at `MAX_THREAD_PAGE_SIZE`). Returns the
 * term as given and the page size to use.
 */
export function validateSearchParams(params: SearchThreadsParams): {
  term: string;
  pageSize: number;
} {
  const term = params.searchTerm;
  if (typeof term !== 'string' || term.trim() === '') {
    throw ThreadStoreError.invalidRequest('thread/search requires search_term');
  }
  if (!(params.pageSize >= 1)) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  return { term, pageSize: Math.min(Math.trunc(params.pageSize), MAX_THREAD_PAGE_SIZE) };
}
