import type { RolloutItem } from '@skein/thread-store';
import {
  agentMessageItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { describe, expect, it } from 'vitest';
import {
  activeTurn,
  findTurnSpans,
  interruptionBoundary,
  snapshotInterrupted,
  snapshotTruncateBeforeNthUserMessage,
  truncateBeforeTurn,
  truncateThroughTurn,
} from '../src/index.js';

/** One turn in the order Codex writes it: the start, then the turn's context. */
function turn(turnId: string, text: string): RolloutItem[] {
  return [
    turnStartedItem(turnId, 1),
    turnContextItem('/w', 'gpt-test', turnId),
    userMessageItem(text),
    agentMessageItem(`re ${text}`),
    turnCompleteItem(turnId, `re ${text}`, 2),
  ];
}

const meta: RolloutItem = {
  type: 'session_meta',
  payload: { id: '00000000-0000-7000-8000-000000000000', timestamp: 't', cwd: '/w' },
};

describe('turn spans', () => {
  it('are the turns segmentTurns cuts, from their start to their last record', () => {
    const items = [meta, ...turn('a', 'one'), ...turn('b', 'two'), turnStartedItem('c', 3)];
    expect(findTurnSpans(items)).toEqual([
      { turnId: 'a', start: 1, end: 5 },
      { turnId: 'b', start: 6, end: 10 },
      { turnId: 'c', start: 11, end: null },
    ]);
    expect(activeTurn(items)).toEqual({ turnId: 'c', start: 11, end: null });
    expect(activeTurn(items.slice(0, 11))).toBeNull();
  });

  it('knows no active turn without an open explicit one (0.169 closes none there)', () => {
    expect(activeTurn([meta, userMessageItem('synthetic')])).toBeNull();
    const failed = [meta, turnStartedItem('c', 3), userMessageItem('three')];
    failed.push({ type: 'event_msg', payload: { type: 'error', message: 'boom' } });
    expect(activeTurn(failed)).toBeNull();
  });
});

describe('fork snapshots', () => {
  const done = [meta, ...turn('a', 'one'), ...turn('b', 'two')];
  const midTurn = [...done, turnStartedItem('c', 3), userMessageItem('three')];

  it('interrupted: unchanged at a boundary, closed like an interrupt mid-turn', () => {
    expect(snapshotInterrupted(done)).toEqual(done);
    expect(snapshotInterrupted(midTurn)).toEqual([...midTurn, ...interruptionBoundary('c')]);
  });

  it('truncate before the n-th user message', () => {
    expect(snapshotTruncateBeforeNthUserMessage(done, 0)).toEqual([meta]);
    expect(snapshotTruncateBeforeNthUserMessage(done, 1)).toEqual(done.slice(0, 6));
    // Out of range at a boundary: unchanged; out of range mid-turn: cut before the active turn.
    expect(snapshotTruncateBeforeNthUserMessage(done, 5)).toEqual(done);
    expect(snapshotTruncateBeforeNthUserMessage(midTurn, 5)).toEqual(done);
  });

  it('cuts through or before a turn id, and rejects unknown or in-progress turns', () => {
    expect(truncateThroughTurn(done, 'a')).toEqual(done.slice(0, 6));
    expect(truncateBeforeTurn(done, 'b')).toEqual(done.slice(0, 6));
    expect(() => truncateThroughTurn(done, 'zz')).toThrow('turn not found: zz');
    expect(() => truncateBeforeTurn(done, 'zz')).toThrow('turn not found: zz');
    expect(() => truncateThroughTurn(midTurn, 'c')).toThrow('turn c is still in progress');
  });
});
