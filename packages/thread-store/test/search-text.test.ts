/** The shared content-search rule: visible text per line shape, the snippet, the checks. */
import { describe, expect, it } from 'vitest';
import {
  agentMessageItem,
  assistantResponseItem,
  messageCompletedItem,
  newThreadId,
  recordSnippet,
  type SearchableRecord,
  snippetAround,
  ThreadStoreError,
  userMessageItem,
  userResponseItem,
  validateSearchParams,
  visibleText,
} from '../src/index.js';

const at = { threadId: newThreadId(0), turnId: 'turn-1', atMs: 0 };

describe('visibleText', () => {
  it('reads every visible line shape', () => {
    expect(visibleText(userMessageItem('asked'))).toBe('asked');
    expect(visibleText(agentMessageItem('answered'))).toBe('answered');
    expect(visibleText(messageCompletedItem('user', 'asked paginated', at))).toBe(
      'asked paginated',
    );
    expect(visibleText(messageCompletedItem('assistant', 'answered paginated', at))).toBe(
      'answered paginated',
    );
    expect(visibleText(userResponseItem('model input'))).toBe('model input');
    expect(visibleText(assistantResponseItem('model output'))).toBe('model output');
  });

  it("joins content parts' texts with a newline and skips parts without a string text", () => {
    const record: SearchableRecord = {
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: [
          { type: 'output_text', text: 'one' },
          { type: 'image' },
          'bare',
          { type: 'output_text', text: 7 },
          { type: 'output_text', text: 'two' },
        ],
      },
    };
    expect(visibleText(record)).toBe('one\ntwo');
  });

  it("prefers an AgentMessage's text over its content parts", () => {
    const record: SearchableRecord = {
      type: 'event_msg',
      payload: {
        type: 'item_completed',
        item: { type: 'AgentMessage', text: 'the text', content: [{ text: 'the parts' }] },
      },
    };
    expect(visibleText(record)).toBe('the text');
  });

  it('finds nothing visible in other lines', () => {
    const hidden: SearchableRecord[] = [
      { type: 'event_msg', payload: { type: 'error', message: 'an error' } },
      { type: 'event_msg', payload: { type: 'user_message', message: 42 } },
      { type: 'event_msg', payload: { type: 'item_completed', item: { type: 'Plan', text: 'p' } } },
      { type: 'response_item', payload: { type: 'message', role: 'developer', content: [] } },
      { type: 'response_item', payload: { type: 'reasoning', content: [{ text: 'thought' }] } },
      { type: 'compacted', payload: { message: 'summary' } },
      { type: 'event_msg', payload: null },
    ];
    for (const record of hidden) expect(visibleText(record)).toBeNull();
  });
});

describe('snippetAround', () => {
  it('keeps 48 characters before and 96 after the match, whitespace collapsed', () => {
    const before = 'b'.repeat(60);
    const after = 'a'.repeat(120);
    const text = `${before}\n\n  Needle   ${after}`;
    expect(snippetAround(text, 'needle')).toBe(
      `... ${'b'.repeat(47)} Needle ${'a'.repeat(95)} ...`,
    );
    expect(snippetAround('short  needle\ttext', 'NEEDLE')).toBe('short needle text');
    expect(snippetAround('no match here', 'needle')).toBeNull();
  });

  it('finds a term whose whitespace differs from the collapsed text', () => {
    expect(snippetAround('first line\n\nsecond line', 'line\n\nsecond')).toBe(
      'first line second line',
    );
    expect(recordSnippet(userMessageItem(' padded'), ' padded')).toBe('padded');
  });
});

describe('validateSearchParams', () => {
  it('refuses an empty or whitespace-only term and a page size below 1', () => {
    for (const searchTerm of ['', ' ', '\n\t']) {
      expect(() => validateSearchParams({ searchTerm, pageSize: 5 })).toThrow(
        'thread/search requires search_term',
      );
    }
    for (const pageSize of [0, -1, Number.NaN]) {
      expect(() => validateSearchParams({ searchTerm: 'x', pageSize })).toThrow(ThreadStoreError);
    }
    expect(validateSearchParams({ searchTerm: ' x ', pageSize: 2.7 })).toEqual({
      term: ' x ',
      pageSize: 2,
    });
  });
});
