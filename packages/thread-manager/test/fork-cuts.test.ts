/**
 * Where a fork cuts a history at a turn (`lastTurnId` / `beforeTurnId`, then the `Interrupted`
 * snapshot thread/fork applies), over the legacy edge histories of
 * packages/protocol/test/turn-edge-cases.ts: the turn a fork finds is the turn `segmentTurns`
 * (and so `thread/turns/list`) shows, and the cut is what codex-cli 0.169.0 keeps.
 */
import { segmentTurns } from '@skein/protocol';
import type { RolloutItem } from '@skein/thread-store';
import { describe, expect, it } from 'vitest';
import { TURN_EDGE_CASES } from '../../protocol/test/turn-edge-cases.js';
import {
  interruptionBoundary,
  snapshotInterrupted,
  truncateBeforeTurn,
  truncateThroughTurn,
} from '../src/index.js';

/**
 * What 0.169.0's `thread/fork {lastTurnId}` and `{beforeTurnId}` keep of each edge history, per
 * explicit turn: `[through, before]`, each the number of source records kept (`+marker`: then
 * closed with the interruption boundary) or why it refused. Read from the real binary by forking
 * every turn `thread/read` lists and comparing the fork's rollout with the source (0.169 also
 * leaves `error` events and lines it cannot parse out of the copy; not compared here).
 * Implicit (`rollout-<n>`) turns are refused by both and are not listed.
 */
type Cut = number | `${number}+marker` | 'inProgress';
const FORK_CUTS_0169: Record<string, Record<string, [Cut, Cut]>> = {
  'a user message after its turn completed': { t1: [5, 0] },
  'an agent message after its turn completed': { t1: [5, 0] },
  'error events change no status': { t1: [5, 1], t2: [8, 5] },
  'a turn started while another is open': {
    t1: ['inProgress', 0],
    t2: [5, '2+marker'],
    t3: ['inProgress', 5],
  },
  'starts and completions without an id are not turn events': { t2: [6, 4] },
  'a completion without an id leaves the open turn open': {
    t1: ['inProgress', 0],
    t2: ['inProgress', '2+marker'],
  },
  'a completion names an earlier turn, an abort the current one': {
    t1: ['2+marker', 0],
    t2: [5, '2+marker'],
  },
  'an abort names an earlier, completed turn': { t1: [3, 0], t2: ['inProgress', 3] },
  'an abort without an id closes the current turn': { t1: [4, 0] },
  'an abort of an unknown id changes nothing': { t1: ['inProgress', 0] },
  'a completion of an unknown id completes the current turn': { t1: [4, 0] },
  'a second completion changes nothing': { t1: [5, 0] },
  'the turn_started / turn_complete aliases': { t1: [3, 0], t2: ['inProgress', 3] },
  'implicit turns before and after an explicit one': { t1: [6, 2] },
  'several user messages in one explicit turn': { t1: [5, 0] },
  'an empty agent message opens no turn, an empty user message does': { t1: [6, 0] },
  'reasoning outside a turn opens one, a token count does not': { t1: [6, 0] },
  'a rollback drops the last turns': { t3: [12, 8] },
  'a rollback inside a turn drops it': { t1: [3, 0] },
};

function historyOf(name: string): RolloutItem[] {
  return (TURN_EDGE_CASES[name]?.records ?? []) as RolloutItem[];
}

/** What a fork keeps, as a `Cut`: the source prefix length, and whether it was closed. */
function describeFork(source: RolloutItem[], forked: RolloutItem[]): Cut {
  const withMarker = snapshotInterrupted(forked);
  expect(forked).toEqual(source.slice(0, forked.length));
  if (withMarker.length === forked.length) return forked.length;
  const open = segmentTurns(forked).turns.at(-1)?.turnId ?? null;
  expect(withMarker).toEqual([...forked, ...interruptionBoundary(open)]);
  return `${forked.length}+marker`;
}

function cutOrRefusal(fork: () => RolloutItem[], source: RolloutItem[]): Cut | string {
  try {
    return describeFork(source, fork());
  } catch (error) {
    const message = (error as Error).message;
    return message.includes('still in progress') ? 'inProgress' : message;
  }
}

describe.each(Object.keys(TURN_EDGE_CASES))('forks of "%s"', (name) => {
  const source = historyOf(name);
  const { turns, turnOfRecord } = segmentTurns(source);

  it('cut at each explicit turn where 0.169.0 cuts', () => {
    const observed: Record<string, [Cut | string, Cut | string]> = {};
    for (const turn of turns.filter((candidate) => candidate.explicit)) {
      observed[turn.turnId] = [
        cutOrRefusal(() => truncateThroughTurn(source, turn.turnId), source),
        cutOrRefusal(() => truncateBeforeTurn(source, turn.turnId), source),
      ];
    }
    expect(observed).toEqual(FORK_CUTS_0169[name] ?? {});
  });

  it('keep, before a turn, the turns the turn list shows before it, and nothing after', () => {
    for (const [position, turn] of turns.entries()) {
      if (!turn.explicit) continue;
      const kept = truncateBeforeTurn(source, turn.turnId);
      const earlier = turns.slice(0, position);
      const owners = turnOfRecord.slice(0, kept.length);
      // Every kept record is the record of an earlier turn or of none (dropped by a rollback).
      expect(owners.every((owner) => owner === null || earlier.includes(owner))).toBe(true);
      // The fork lists exactly those earlier turns.
      const forkTurns = segmentTurns(snapshotInterrupted(kept)).turns;
      expect(forkTurns.map((forked) => forked.turnId)).toEqual(
        earlier.map((before) => before.turnId),
      );
    }
  });

  it('keep, through a finished turn, it and the turns before the next turn start', () => {
    for (const turn of turns.filter((candidate) => candidate.explicit)) {
      let kept: RolloutItem[];
      try {
        kept = truncateThroughTurn(source, turn.turnId);
      } catch {
        continue; // unfinished: refused (pinned by the table)
      }
      const expected = turns.filter((candidate) => candidate.startIndex < kept.length);
      expect(expected.at(-1)?.explicit === false || expected.at(-1) === turn).toBe(true);
      const forkTurns = segmentTurns(snapshotInterrupted(kept)).turns;
      expect(forkTurns.map((forked) => forked.turnId)).toEqual(
        expected.map((candidate) => candidate.turnId),
      );
    }
  });

  it('refuse implicit turns, rolled-back turns and unknown ids', () => {
    for (const turn of turns.filter((candidate) => !candidate.explicit)) {
      expect(() => truncateThroughTurn(source, turn.turnId)).toThrow('no persisted turn start');
      expect(() => truncateBeforeTurn(source, turn.turnId)).toThrow('no persisted turn start');
    }
    const listed = new Set(turns.map((turn) => turn.turnId));
    const started = source
      .map((record) => (record.payload as { turn_id?: unknown }).turn_id)
      .filter((id): id is string => typeof id === 'string' && !listed.has(id));
    for (const turnId of [...started, 'nope']) {
      expect(() => truncateThroughTurn(source, turnId)).toThrow(`turn not found: ${turnId}`);
      expect(() => truncateBeforeTurn(source, turnId)).toThrow(`turn not found: ${turnId}`);
    }
  });
});
