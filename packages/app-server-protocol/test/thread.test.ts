/**
 * The wire `Thread` of stored threads, from the real 0.169 fixture home read by a
 * LocalThreadStore (files only), against its MANIFEST; and the stable projection the CLI prints.
 */
import { installFixtureHome } from '@skein/test-support';
import { LocalThreadStore, type SessionSource, type StoredThread } from '@skein/thread-store';
import { describe, expect, it } from 'vitest';
import {
  EXPERIMENTAL_THREAD_FIELDS,
  sourceMatchesKind,
  stableThread,
  storedWireThread,
  THREAD_SOURCE_KINDS,
} from '../src/index.js';

async function storedThreads(home: string): Promise<StoredThread[]> {
  const store = new LocalThreadStore({ codexHome: home, warn: () => {} });
  const page = await store.listThreads({
    pageSize: 100,
    archived: false,
    modelProviders: [],
    allowedSources: [],
  });
  return page.items;
}

describe('storedWireThread / stableThread', () => {
  it('maps every listed fixture thread as the manifest records it', async () => {
    const { home, manifest } = installFixtureHome('codex-0.169');
    const threads = await storedThreads(home);
    expect(threads.length).toBeGreaterThan(0);
    for (const stored of threads) {
      const expected = manifest.threads.find((t) => t.id === stored.threadId);
      if (expected === undefined) throw new Error(`${stored.threadId} is not in the manifest`);
      const wire = storedWireThread(stored);
      expect(wire).toMatchObject({
        id: expected.id,
        sessionId: expected.id,
        name: expected.name ?? null,
        cwd: expected.cwd,
        historyMode: expected.historyMode,
        status: { type: 'notLoaded' },
        ephemeral: false,
        turns: [],
      });
      expect(wire.createdAt).toBe(Math.floor(stored.createdAtMs / 1000));

      const stable = stableThread(wire);
      for (const field of EXPERIMENTAL_THREAD_FIELDS) expect(stable).not.toHaveProperty(field);
      // Nothing else is dropped, and the wire order is kept.
      expect(Object.keys(stable)).toEqual(
        Object.keys(wire).filter(
          (k) => !(EXPERIMENTAL_THREAD_FIELDS as readonly string[]).includes(k),
        ),
      );
    }
  });
});

describe('sourceMatchesKind', () => {
  const sources: [SessionSource, string[]][] = [
    ['cli', ['cli']],
    ['vscode', ['vscode']],
    ['mcp', ['appServer']],
    ['unknown', ['unknown']],
    [{ custom: 'atlas' }, []],
    [{ subagent: 'review' }, ['subAgent', 'subAgentReview']],
    [{ subagent: 'compact' }, ['subAgent', 'subAgentCompact']],
    [{ subagent: 'memory_consolidation' }, ['subAgent', 'subAgentOther']],
    [{ subagent: { other: 'x' } }, ['subAgent', 'subAgentOther']],
    [
      {
        subagent: {
          thread_spawn: {
            parent_thread_id: '01a20154-1916-7c91-82a1-7938e7a77c84',
            depth: 1,
            agent_path: null,
            agent_nickname: null,
            agent_role: null,
          },
        },
      } as SessionSource,
      ['subAgent', 'subAgentThreadSpawn'],
    ],
  ];
  it.each(sources)('%j belongs to exactly %j', (source, kinds) => {
    expect(THREAD_SOURCE_KINDS.filter((kind) => sourceMatchesKind(source, kind))).toEqual(kinds);
  });
});
