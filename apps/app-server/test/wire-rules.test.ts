/**
 * The rules the handlers apply to look like 0.169.0, each checked on the cases observed on the
 * real binary (see the differential interop test for the end-to-end comparison): the settings
 * and token usage read from the fixture homes' real rollout histories. (List cursors are the
 * store's: see packages/rollout/test/state-db-list-codex.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, readFixtureManifest } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { recordedSettings, tokenUsageOf } from '../src/handlers/session.js';

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
