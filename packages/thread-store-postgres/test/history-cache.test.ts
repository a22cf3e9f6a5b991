import type { RolloutLine, ThreadId } from '@skein/thread-store';
import { describe, expect, it } from 'vitest';
import { HistoryLineCache } from '../src/history-cache.js';

const line = (message: string): RolloutLine => ({
  timestamp: '2025-01-01T00:00:00.000Z',
  type: 'event_msg',
  payload: { type: 'agent_message', message },
});
const id = (n: number) => `00000000-0000-7000-8000-00000000000${n}` as ThreadId;

describe('HistoryLineCache', () => {
  it('keeps the most recently used threads within its byte budget', () => {
    const cache = new HistoryLineCache(100);
    cache.set(id(1), { generation: 1, lines: [line('a')], bytes: 40 });
    cache.set(id(2), { generation: 1, lines: [line('b')], bytes: 40 });
    expect(cache.get(id(1), 1)?.lines).toHaveLength(1); // 1 is now the most recent
    cache.set(id(3), { generation: 1, lines: [line('c')], bytes: 40 });
    expect(cache.get(id(2), 1)).toBeUndefined();
    expect(cache.get(id(1), 1)).toBeDefined();
    expect(cache.get(id(3), 1)).toBeDefined();
    // Replacing an entry counts only its new size.
    cache.set(id(3), { generation: 1, lines: [line('c'), line('d')], bytes: 60 });
    expect(cache.size).toBe(2);
    expect(cache.cachedCount(id(3))).toBe(2);
    // Too big for the whole budget: not cached, and it evicts nothing.
    cache.set(id(4), { generation: 1, lines: [line('e')], bytes: 101 });
    expect(cache.get(id(4), 1)).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('forgets a thread whose generation changed, and caches nothing with a zero budget', () => {
    const cache = new HistoryLineCache(100);
    cache.set(id(1), { generation: 1, lines: [line('a')], bytes: 10 });
    expect(cache.get(id(1), 2)).toBeUndefined();
    expect(cache.cachedCount(id(1))).toBe(0);
    cache.set(id(1), { generation: 2, lines: [line('a')], bytes: 100 });
    expect(cache.get(id(1), 2)).toBeDefined();
    const off = new HistoryLineCache(0);
    off.set(id(1), { generation: 1, lines: [line('a')], bytes: 1 });
    expect(off.size).toBe(0);
  });
});
