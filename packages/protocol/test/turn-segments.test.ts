/**
 * `segmentTurns` on the edge histories whose turns codex-cli 0.169.0 reported (the table is
 * re-read from the real binary by apps/app-server's turn-edges interop test), and what it says
 * about the records: which turn each belongs to, where each turn starts, and the times.
 */
import { describe, expect, it } from 'vitest';
import { segmentTurns, type TurnRecord, turnStartId } from '../src/index.js';
import { TURN_EDGE_CASES } from './turn-edge-cases.js';

/** The edge histories are read after a session meta line, as in a rollout file. */
function withMeta(records: readonly TurnRecord[]): TurnRecord[] {
  return [{ type: 'session_meta', payload: { id: 'x' } }, ...records];
}

describe.each(Object.entries(TURN_EDGE_CASES))('segmentTurns: %s', (_name, edge) => {
  const { turns, turnOfRecord } = segmentTurns(withMeta(edge.records));

  it('cuts the turns 0.169 reports (an open last turn is the caller’s to call interrupted)', () => {
    const last = turns.at(-1);
    const shown = turns.map(
      (turn) => `${turn.turnId}:${turn.status === 'inProgress' ? 'interrupted' : turn.status}`,
    );
    expect(shown).toEqual(edge.turns);
    expect(turns.filter((turn) => turn.status === 'inProgress' && turn !== last)).toEqual([]);
  });

  it('gives every record at most one turn, starting at the record that opened it', () => {
    for (const turn of turns) {
      expect(turn.recordIndexes[0]).toBe(turn.startIndex);
      for (const index of turn.recordIndexes) expect(turnOfRecord[index]).toBe(turn);
    }
    const owned = turns.reduce((sum, turn) => sum + turn.recordIndexes.length, 0);
    expect(turnOfRecord.filter((turn) => turn !== null)).toHaveLength(owned);
    expect(turnOfRecord).toHaveLength(edge.records.length + 1);
  });
});

describe('segmentTurns', () => {
  const event = (payload: Record<string, unknown>): TurnRecord => ({ type: 'event_msg', payload });

  it('keeps the start time, completion and duration, and the root turn id', () => {
    const { turns } = segmentTurns([
      event({ type: 'task_started', turn_id: 't1', root_turn_id: 'r', started_at: 10 }),
      event({ type: 'user_message', message: 'hi' }),
      event({ type: 'task_complete', turn_id: 't1', completed_at: 12, duration_ms: 2000 }),
    ]);
    expect(turns).toMatchObject([
      {
        turnId: 't1',
        rootTurnId: 'r',
        explicit: true,
        status: 'completed',
        startedAt: 10,
        completedAt: 12,
        durationMs: 2000,
        recordIndexes: [0, 1, 2],
        closeIndex: 2,
      },
    ]);
  });

  it('records which event closed a turn, and none for a turn only a later start ended', () => {
    const records = [
      event({ type: 'task_started', turn_id: 't1' }),
      event({ type: 'task_started', turn_id: 't2' }),
      event({ type: 'turn_aborted', turn_id: 'zz' }),
      event({ type: 'turn_aborted', turn_id: 't2' }),
      event({ type: 'task_started' }),
      event({ type: 'task_started', turn_id: 't3' }),
    ];
    const { turns } = segmentTurns(records);
    expect(turns.map((turn) => [turn.turnId, turn.status, turn.closeIndex])).toEqual([
      ['t1', 'interrupted', null],
      ['t2', 'interrupted', 3],
      ['t3', 'inProgress', null],
    ]);
    expect(records.map(turnStartId)).toEqual(['t1', 't2', null, null, null, 't3']);
  });

  it('names implicit turns by the ordinal of paginated lines and files items by turn id', () => {
    const item = { type: 'AgentMessage', id: 'm', content: [] };
    const { turns, paginated } = segmentTurns([
      { type: 'session_meta', payload: { history_mode: 'paginated' }, ordinal: 40 },
      { ...event({ type: 'item_completed', turn_id: 'gone', item }), ordinal: 41 },
      { ...event({ type: 'task_started', turn_id: 't1' }), ordinal: 42 },
      { ...event({ type: 'user_message', message: 'ignored in paginated files' }), ordinal: 43 },
      { ...event({ type: 'task_complete', turn_id: 't1' }), ordinal: 44 },
      { ...event({ type: 'item_completed', turn_id: 't1', item }), ordinal: 45 },
    ]);
    expect(paginated).toBe(true);
    expect(turns.map((turn) => [turn.turnId, turn.startOrdinal, turn.recordIndexes])).toEqual([
      ['rollout-41', 41, [1]],
      ['t1', 42, [2, 3, 4, 5]],
    ]);
  });
});
