/**
 * Turn building from real rollout files of both fixture homes: legacy (0.131: user_message /
 * agent_message events, `item-N` ids) and paginated (0.169: item_completed items with their
 * own ids), plus the turns/list paging and cursor formats of A.17/A.18.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_NAMES, fixturesDir, readFixtureManifest } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { buildTurns, type HistoryItem, pageTurns, viewTurn } from '../src/index.js';

function historyOf(fixture: (typeof FIXTURE_NAMES)[number], rolloutFile: string): HistoryItem[] {
  const path = join(fixturesDir(), fixture, 'home-a', rolloutFile);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as HistoryItem);
}

function textOf(item: unknown): string {
  const record = item as { type: string; text?: string; content?: { text?: string }[] };
  return record.type === 'agentMessage' ? (record.text ?? '') : (record.content?.[0]?.text ?? '');
}

describe.each(FIXTURE_NAMES)('turns of %s', (fixture) => {
  const manifest = readFixtureManifest(fixture);
  const persisted = manifest.threads.filter(
    (t) => t.persisted && typeof t.observed?.rolloutFile === 'string' && t.inheritedTurnCount === 0,
  );

  it('rebuilds every persisted thread’s turns, user and agent messages', () => {
    expect(persisted.length).toBeGreaterThan(3);
    for (const thread of persisted) {
      const history = buildTurns(historyOf(fixture, thread.observed?.rolloutFile as string));
      const turns = history.turns.map((t) => t.turn);
      const context = `${thread.key} ${JSON.stringify(turns).slice(0, 1500)}`;
      expect(turns.map((t) => t.id)).toEqual(thread.turnIds);
      expect(
        turns.every((t) => t.status === 'completed'),
        context,
      ).toBe(true);
      const items = turns.flatMap((t) => t.items);
      expect(items.filter((i) => i.type === 'userMessage').map(textOf)).toEqual(
        thread.userMessages,
      );
      expect(items.filter((i) => i.type === 'agentMessage').map(textOf)).toEqual(
        thread.agentMessages,
      );
      if (manifest.rolloutFormat === 'paginated') {
        expect(history.paginated).toBe(true);
        expect(
          turns.every((t) => t.rootTurnId !== null),
          context,
        ).toBe(true);
        expect(
          items.every((i) => i.startedAtMs !== null && !i.id.startsWith('item-')),
          context,
        ).toBe(true);
      } else {
        expect(history.paginated).toBe(false);
        expect(items.map((i) => i.id)).toEqual(items.map((_, index) => `item-${index + 1}`));
        expect(items.every((i) => i.startedAtMs === null)).toBe(true);
      }
    }
  });

  it('pages turns newest first with exclusive next and inclusive backwards cursors', () => {
    const thread = persisted.find((t) => t.turnCount >= 3);
    if (thread === undefined) throw new Error('fixture lacks a 3-turn thread');
    const history = buildTurns(historyOf(fixture, thread.observed?.rolloutFile as string));
    const first = pageTurns(thread.id, history, { limit: 2, direction: 'desc', view: 'summary' });
    expect(first.data.map((t) => t.id)).toEqual([...thread.turnIds].reverse().slice(0, 2));
    expect(first.data.every((t) => t.itemsView === 'summary' && t.items.length === 2)).toBe(true);
    if (history.paginated) {
      expect(JSON.parse(first.nextCursor ?? '')).toEqual({
        requestedThreadId: thread.id,
        rolloutOrdinal: history.turns[history.turns.length - 2]?.startOrdinal,
        includeAnchor: false,
        scope: { kind: 'turns' },
      });
    } else {
      expect(JSON.parse(first.nextCursor ?? '')).toEqual({
        turnId: first.data[1]?.id,
        includeAnchor: false,
      });
    }
    const rest = pageTurns(thread.id, history, {
      cursor: first.nextCursor ?? undefined,
      limit: 25,
      direction: 'desc',
      view: 'notLoaded',
    });
    expect([...first.data, ...rest.data].map((t) => t.id)).toEqual([...thread.turnIds].reverse());
    expect(rest.nextCursor).toBeNull();
    expect(rest.data.every((t) => t.items.length === 0 && t.itemsView === 'notLoaded')).toBe(true);
    // The backwards cursor of page 2 with asc returns its anchor again and everything newer.
    const back = pageTurns(thread.id, history, {
      cursor: rest.backwardsCursor ?? undefined,
      limit: 25,
      direction: 'asc',
      view: 'full',
    });
    const anchor = thread.turnIds.indexOf(rest.data[0]?.id ?? '');
    expect(back.data.map((t) => t.id)).toEqual(thread.turnIds.slice(anchor));
  });
});

describe('turn edge cases', () => {
  const started = (turnId: string): HistoryItem => ({
    type: 'event_msg',
    payload: { type: 'task_started', turn_id: turnId, started_at: 10 },
  });
  const user = (message: string): HistoryItem => ({
    type: 'event_msg',
    payload: {
      type: 'user_message',
      message,
      images: ['https://x/i.png'],
      local_images: [],
      text_elements: [],
    },
  });

  it('reports an open turn as interrupted unless the thread is running', () => {
    const items = [started('t1'), user('hello')];
    expect(buildTurns(items).turns[0]?.turn.status).toBe('interrupted');
    expect(buildTurns(items, true).turns[0]?.turn.status).toBe('inProgress');
  });

  it('keeps images, marks aborted turns, and leaves an error event’s turn completed (as 0.169)', () => {
    const items: HistoryItem[] = [
      started('t1'),
      user('look'),
      {
        type: 'event_msg',
        payload: { type: 'turn_aborted', turn_id: 't1', reason: 'interrupted' },
      },
      started('t2'),
      user('again'),
      { type: 'event_msg', payload: { type: 'error', message: 'boom' } },
      {
        type: 'event_msg',
        payload: { type: 'task_complete', turn_id: 't2', completed_at: 11, duration_ms: 5 },
      },
    ];
    const [aborted, errored] = buildTurns(items).turns.map((t) => t.turn);
    expect(aborted?.status).toBe('interrupted');
    expect(aborted?.items[0]).toMatchObject({
      type: 'userMessage',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image', url: 'https://x/i.png' },
      ],
    });
    expect(errored).toMatchObject({
      status: 'completed',
      error: null,
      completedAt: 11,
      durationMs: 5,
    });
  });

  it('summary view keeps the first user and last agent message', () => {
    const items: HistoryItem[] = [
      started('t1'),
      user('one'),
      { type: 'event_msg', payload: { type: 'agent_message', message: 'a1' } },
      user('two'),
      { type: 'event_msg', payload: { type: 'agent_message', message: 'a2' } },
    ];
    const turn = buildTurns(items).turns[0]?.turn;
    if (turn === undefined) throw new Error('no turn');
    expect(viewTurn(turn, 'summary').items.map(textOf)).toEqual(['one', 'a2']);
  });

  it('rejects cursors it cannot place', () => {
    const history = buildTurns([started('t1'), user('x')]);
    expect(() =>
      pageTurns('id', history, { cursor: 'garbage', limit: 5, direction: 'desc', view: 'full' }),
    ).toThrow('invalid cursor: garbage');
    expect(() =>
      pageTurns('id', history, {
        cursor: JSON.stringify({ turnId: 'gone', includeAnchor: true }),
        limit: 5,
        direction: 'desc',
        view: 'full',
      }),
    ).toThrow('invalid cursor: anchor turn is no longer present');
  });
});

describe('sub-agent spawns (0.169 paginated homes)', () => {
  const manifest = readFixtureManifest('codex-0.169');
  const child = manifest.threads.find((t) => t.parentThreadId !== null);
  const parent = manifest.threads.find((t) => t.id === child?.parentThreadId);

  it('turns the recorded CollabAgentToolCall into a collabAgentToolCall item between the messages', () => {
    if (child === undefined || parent === undefined) throw new Error('the home has no spawn');
    const history = buildTurns(historyOf('codex-0.169', parent.observed?.rolloutFile as string));
    const items = history.turns.flatMap((t) => t.turn.items);
    expect(items.map((i) => i.type)).toEqual([
      'userMessage',
      'collabAgentToolCall',
      'agentMessage',
    ]);
    const spawn = items[1] as Extract<(typeof items)[number], { type: 'collabAgentToolCall' }>;
    expect(spawn).toMatchObject({
      tool: 'spawnAgent',
      status: 'completed',
      senderThreadId: parent.id,
      receiverThreadIds: [child.id],
      agentsStates: { [child.id]: { status: 'pendingInit', message: null } },
    });
    expect(spawn.id).toMatch(/^call_/);
    expect(spawn.startedAtMs).toBeGreaterThan(0);
    expect(Object.keys(spawn)).toEqual([
      'type',
      'id',
      'tool',
      'status',
      'senderThreadId',
      'receiverThreadIds',
      'prompt',
      'model',
      'reasoningEffort',
      'agentsStates',
      'startedAtMs',
      'completedAtMs',
    ]);
    // Every item keeps the ordinal of the line that recorded it (thread/items/list pages on it).
    const built = history.turns[0];
    expect(built?.itemOrdinals).toHaveLength(3);
    expect([...(built?.itemOrdinals ?? [])].sort((a, b) => a - b)).toEqual(built?.itemOrdinals);
  });
});
