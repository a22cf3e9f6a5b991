/**
 * The rules the handlers apply to look like 0.169.0, each checked on the cases observed on the
 * real binary (see the differential interop test for the end-to-end comparison): list cursor
 * precision and strict-after semantics, and the settings and token usage read from the fixture
 * homes' real rollout histories.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, readFixtureManifest } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  formatListCursor,
  keeps,
  parseListCursor,
  storeStartCursor,
} from '../src/handlers/list-cursor.js';
import { recordedSettings, tokenUsageOf } from '../src/handlers/session.js';

const at = (iso: string) => Date.parse(iso);

describe('thread/list cursors', () => {
  it('prints whole seconds on the file path and trimmed milliseconds on the DB path', () => {
    const id = '01a20154-60d0-7bc0-954c-d80f7e126a55';
    expect(formatListCursor(at('2026-11-22T03:37:16.756Z'), id, 'second')).toBe(
      `2026-11-22T03:37:16Z|${id}`,
    );
    expect(formatListCursor(at('2026-11-22T03:37:00.930Z'), id, 'ms')).toBe(
      `2026-11-22T03:37:00.93Z|${id}`,
    );
    expect(formatListCursor(at('2026-11-22T03:37:58.703Z'), id, 'ms')).toBe(
      `2026-11-22T03:37:58.703Z|${id}`,
    );
  });

  it('compares a cursor against whole seconds on the file path, as 0.169.0 pages', () => {
    const t2 = at('2026-11-22T03:36:59.645Z');
    const t3 = at('2026-11-22T03:37:00.808Z');
    const asc = parseListCursor('2026-11-22T03:36:59.000Z');
    expect(keeps(asc, 'asc', 'second', t2, 'b')).toBe(false);
    expect(keeps(asc, 'asc', 'second', t3, 'c')).toBe(true);
    const desc = parseListCursor('2026-11-22T03:37:00.900Z');
    expect(keeps(desc, 'desc', 'second', t3, 'c')).toBe(true);
    const keyed = parseListCursor('2026-11-22T03:36:59Z|01a20154-1dfc-75d2-8b53-26d7ad3a28f7');
    expect(keeps(keyed, 'asc', 'second', t2, '01a20154-1dfc-75d2-8b53-26d7ad3a28f7')).toBe(false);
    // The store is asked from the start of the cursor's second, so nothing is missed.
    expect(storeStartCursor(keyed, 'asc', 'second')).toBe('2026-11-22T03:36:58.999Z');
    expect(storeStartCursor(desc, 'desc', 'second')).toBe('2026-11-22T03:37:01.000Z');
  });

  it('rejects what 0.169.0 rejects', () => {
    for (const bad of ['garbage', '2026-11-22T03:36:59', '1795318619', '2026-11-22T03:36:59Z|x']) {
      expect(() => parseListCursor(bad)).toThrow(`invalid cursor: ${bad}`);
    }
  });
});

function history(fixture: 'codex-0.169' | 'codex-0.131', key: string) {
  const manifest = readFixtureManifest(fixture);
  const thread = manifest.threads.find((t) => t.key === manifest.roles[key]);
  const file = thread?.observed?.rolloutFile;
  if (typeof file !== 'string') throw new Error(`no ${key} thread`);
  return readFileSync(join(fixturesDir(), fixture, 'home-a', file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { type: string; payload: unknown });
}

describe('settings and usage recorded in a thread', () => {
  it('reads the approval policy and whether 0.169.0 recorded a settings snapshot', () => {
    expect(recordedSettings(history('codex-0.169', 'multiTurn'))).toEqual({
      approvalPolicy: 'never',
      permissionProfile: true,
    });
    expect(recordedSettings(history('codex-0.131', 'multiTurn'))).toEqual({
      approvalPolicy: 'never',
      permissionProfile: false,
    });
    expect(recordedSettings([])).toEqual({ approvalPolicy: null, permissionProfile: false });
  });

  it('reports the last token count with the turn it belongs to', () => {
    const lines = history('codex-0.131', 'multiTurn');
    const usage = tokenUsageOf('new-thread', lines) as {
      threadId: string;
      turnId: string;
      tokenUsage: { total: Record<string, number>; last: Record<string, number> };
    };
    const turns = lines.filter(
      (l) => l.type === 'event_msg' && (l.payload as { type: string }).type === 'task_started',
    );
    expect(usage.threadId).toBe('new-thread');
    const lastTurn = turns.at(-1)?.payload as { turn_id: string } | undefined;
    expect(usage.turnId).toBe(lastTurn?.turn_id);
    expect(usage.tokenUsage.total.totalTokens).toBeGreaterThan(
      usage.tokenUsage.last.totalTokens ?? 0,
    );
    expect(Object.keys(usage.tokenUsage.total)).toEqual([
      'totalTokens',
      'inputTokens',
      'cachedInputTokens',
      'cacheWriteInputTokens',
      'outputTokens',
      'reasoningOutputTokens',
    ]);
    expect(tokenUsageOf('x', [])).toBeNull();
  });
});
