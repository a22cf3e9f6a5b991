import { describe, expect, it } from 'vitest';
import {
  type ClearableField,
  decodeSessionSource,
  decodeThreadCursor,
  encodeSessionSource,
  encodeThreadCursor,
  type GitInfoPatch,
  gitInfoPatchSchema,
  isAfterThreadCursor,
  newThreadId,
  parseFileTimestamp,
  parseRfc3339Ms,
  parseThreadId,
  type SessionSource,
  sessionSourceSchema,
  type ThreadId,
  threadIdSchema,
  threadSortKeySchema,
} from '../src/index.js';

const ID = '00000000-0000-4000-8000-000000000004' as ThreadId;

describe('thread ids', () => {
  it('makes time-ordered lowercase UUIDv7s and parses only UUIDs', () => {
    const ids = Array.from({ length: 50 }, () => newThreadId(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseThreadId(ID.toUpperCase())).toBe(ID);
    expect(() => parseThreadId('nope')).toThrow('invalid thread id: nope');
    expect(threadIdSchema.parse(ID.toUpperCase())).toBe(ID);
    expect(threadIdSchema.safeParse('nope').success).toBe(false);
  });
});

describe('the thread list cursor', () => {
  it('prints times as Codex does, fraction without trailing zeros', () => {
    const at = Date.UTC(2026, 10, 22, 2, 52, 18, 670);
    expect(encodeThreadCursor({ timestampMs: at, threadId: ID })).toBe(
      `2026-11-22T02:52:18.67Z|${ID}`,
    );
    expect(encodeThreadCursor({ timestampMs: Date.UTC(2025, 0, 3, 12), threadId: null })).toBe(
      '2025-01-03T12:00:00Z',
    );
  });

  it('reads every accepted form back and refuses anything else with null', () => {
    expect(decodeThreadCursor(`2026-11-22T02:52:18.67Z|${ID.toUpperCase()}`)).toEqual({
      timestampMs: Date.UTC(2026, 10, 22, 2, 52, 18, 670),
      threadId: ID,
    });
    expect(decodeThreadCursor('2025-01-03T12-00-00')).toEqual({
      timestampMs: Date.UTC(2025, 0, 3, 12),
      threadId: null,
    });
    expect(decodeThreadCursor('2025-01-03T13:00:00.123456+01:00')).toEqual({
      timestampMs: Date.UTC(2025, 0, 3, 12, 0, 0, 123),
      threadId: null,
    });
    for (const bad of ['garbage', '2025-01-03T12:00:00Z|nope', '', '|', '2025-02-31T00-00-00']) {
      expect(decodeThreadCursor(bad)).toBeNull();
    }
  });

  it('orders (time, id) strictly after the cursor in both directions', () => {
    const cursor = { timestampMs: 1000, threadId: ID };
    const below = '00000000-0000-4000-8000-000000000003';
    const above = '00000000-0000-4000-8000-000000000005';
    const after = (ms: number, id: string, direction: 'asc' | 'desc') =>
      isAfterThreadCursor(ms, id, cursor, direction);
    expect([
      after(999, above, 'desc'),
      after(1000, below, 'desc'),
      after(1000, ID, 'desc'),
    ]).toEqual([true, true, false]);
    expect([
      after(1001, below, 'asc'),
      after(1000, above, 'asc'),
      after(1000, below, 'asc'),
    ]).toEqual([true, true, false]);
    const timeOnly = { timestampMs: 1000, threadId: null };
    expect(isAfterThreadCursor(1000, above, timeOnly, 'asc')).toBe(false);
    expect(isAfterThreadCursor(999, above, timeOnly, 'desc')).toBe(true);
  });
});

describe('session sources', () => {
  it('encode as Codex stores them and decode back', () => {
    const spawned: SessionSource = {
      subagent: { thread_spawn: { parent_thread_id: ID, depth: 1, agent_nickname: 'Ada' } },
    };
    expect(encodeSessionSource('cli')).toBe('cli');
    expect(encodeSessionSource(undefined)).toBe('vscode');
    expect(encodeSessionSource('something_new')).toBe('unknown');
    const encoded = encodeSessionSource(spawned);
    expect(encoded).toBe(
      `{"subagent":{"thread_spawn":{"parent_thread_id":"${ID}","depth":1,"agent_nickname":"Ada"}}}`,
    );
    expect(decodeSessionSource(encoded)).toEqual(spawned);
    expect(decodeSessionSource('exec')).toBe('exec');
    expect(decodeSessionSource('{broken')).toBe('unknown');
    expect(decodeSessionSource('')).toBe('unknown');
    expect(sessionSourceSchema.safeParse(spawned).success).toBe(true);
    expect(sessionSourceSchema.safeParse('app_server').success).toBe(false);
  });
});

describe('patches and sort keys', () => {
  it('keep an absent key absent and a null as a clear', () => {
    const patch: GitInfoPatch = { sha: null, branch: 'main' };
    expect(gitInfoPatchSchema.parse(patch)).toEqual({ sha: null, branch: 'main' });
    expect(Object.keys(gitInfoPatchSchema.parse({}))).toEqual([]);
    expect(gitInfoPatchSchema.safeParse({ sha: undefined }).success).toBe(false);
    const cleared: ClearableField<string> = null;
    expect(gitInfoPatchSchema.parse({ originUrl: cleared })).toEqual({ originUrl: null });
    expect(threadSortKeySchema.options).toEqual(['createdAt', 'updatedAt', 'recencyAt']);
  });
});

describe('Codex time forms', () => {
  it('parse RFC 3339 with any offset and fraction, and file-name times as UTC', () => {
    expect(parseRfc3339Ms('2026-11-22T02:52:18.6789Z')).toBe(
      Date.UTC(2026, 10, 22, 2, 52, 18, 678),
    );
    expect(parseRfc3339Ms('2026-11-22T04:52:18-02:00')).toBe(Date.UTC(2026, 10, 22, 6, 52, 18));
    expect(parseRfc3339Ms('2026-11-22')).toBeNull();
    expect(parseFileTimestamp('2026-11-22T02-52-18')).toBe(Date.UTC(2026, 10, 22, 2, 52, 18));
    expect(parseFileTimestamp('2026-02-30T00-00-00')).toBeNull();
  });
});
