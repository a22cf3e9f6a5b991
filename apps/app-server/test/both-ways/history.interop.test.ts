/**
 * History both ways, on every home and history mode: `thread/inject_items`, turns appended by
 * Skein (resume → record → unload), forks (whole and at a turn), and real Codex turns.
 * - Skein changes a thread's history; a fresh real `codex app-server` 0.169.0 reads it cold
 *   (`thread/read includeTurns`, `thread/turns/list`), resumes it, forks it and runs a turn on
 *   it; for paginated threads the ordinals and the projection Skein wrote are what Codex reads.
 * - The real Codex changes history while a Skein app-server is open on the home; Skein's next
 *   answers show the new turns, the injected line does not break it, and a fork Codex made can
 *   be continued by Skein and read back by Codex.
 * Real Codex turns need the mock model, so they run on the recorded homes (their config.toml
 * names the mock providers); the fixture homes get every other step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../../../../packages/test-support/src/recorder/mock-model.js';
import { CASTS, castPairs } from './support/cast.js';
import { expectHealthyHome, onHome, refusal, using } from './support/checks.js';
import { ALL_HOMES, type HistoryMode, type HomeKind, type TestHome } from './support/homes.js';
import { type CodexVersion, Peer, turnTexts, type WireTurn } from './support/peers.js';
import { paginatedProblems, rolloutLines } from './support/rollout.js';
import { appendTurn, openSkein } from './support/skein.js';

let model: MockModelServer;
beforeAll(async () => {
  model = await MockModelServer.start();
});
afterAll(async () => {
  await model?.close();
});

function withModel(kind: HomeKind): boolean {
  return kind.startsWith('recorded-');
}

function install<T>(kind: HomeKind, body: (home: TestHome) => Promise<T>): Promise<T> {
  return onHome(kind, body, withModel(kind) ? { modelPort: model.port } : {});
}

function plainOf(home: TestHome, mode: HistoryMode): [string, string] {
  const plain = CASTS[home.kind].plain[mode];
  if (plain === undefined) throw new Error(`${home.kind} has no ${mode} threads`);
  return [home.thread(plain[0]).id, home.thread(plain[1]).id];
}

function codexFor(home: TestHome): CodexVersion {
  return home.dbVersion === '0.131.0' ? '0.131.0' : '0.169.0';
}

const INJECTED = {
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text: 'Injected by a peer ✓' }],
};

/** Own-file problems of a paginated thread (ordinals and projection); none for legacy. */
async function expectConsistentFile(
  reader: Peer,
  home: TestHome,
  threadId: string,
  mode: HistoryMode,
  what: string,
): Promise<void> {
  if (mode !== 'paginated') return;
  const path = (await reader.read(threadId)).path;
  if (path === null) throw new Error(`${threadId} has no path`);
  expect
    .soft(paginatedProblems(home.home, threadId, path), `${what}: ordinals/projection`)
    .toEqual([]);
}

function ids(turns: readonly WireTurn[]): string[] {
  return turns.map((turn) => turn.id);
}

describe('Skein changes history → the real Codex 0.169 reads, resumes and continues it', () => {
  it.each(castPairs(ALL_HOMES, 'plain'))('inject_items: %s, %s', async (kind, mode) => {
    await install(kind, async (home) => {
      const [threadId] = plainOf(home, mode);
      const before = home.thread(CASTS[kind].plain[mode]?.[0] ?? '').turnIds;
      const path = await using(Peer.skein(home.home), async (skein) => {
        await skein.request('thread/resume', { threadId, excludeTurns: true });
        await skein.request('thread/inject_items', { threadId, items: [INJECTED] });
        return (await skein.read(threadId)).path ?? '';
      });
      const last = rolloutLines(path).at(-1);
      expect.soft(last?.type).toBe('response_item');
      expect.soft(JSON.stringify(last?.payload)).toContain('Injected by a peer ✓');
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        await expectConsistentFile(codex, home, threadId, mode, 'after skein injected');
        const read = await codex.attempt<{ thread: { turns: WireTurn[] } }>('thread/read', {
          threadId,
          includeTurns: true,
        });
        expect.soft(read.ok ? ids(read.value.thread.turns) : read.error).toEqual(before);
        expect.soft(ids(await codex.turns(threadId))).toEqual(before);
        const resumed = await codex.attempt('thread/resume', { threadId, excludeTurns: true });
        expect.soft(refusal(resumed), 'codex resumes after the injection').toBe('(accepted)');
        if (withModel(kind) && resumed.ok) {
          const turnId = await codex.runTurn(threadId, 'Codex turn after an injection');
          expect.soft(ids(await codex.turns(threadId))).toEqual([...before, turnId]);
          await expectConsistentFile(codex, home, threadId, mode, 'after codex ran a turn');
        }
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });

  it.each(castPairs(ALL_HOMES, 'plain'))(
    'a turn Skein appends, then resume: %s, %s',
    async (kind, mode) => {
      await install(kind, async (home) => {
        const [, threadId] = plainOf(home, mode);
        const before = home.thread(CASTS[kind].plain[mode]?.[1] ?? '').turnIds;
        const skein = await openSkein(home.home);
        let skeinTurn: string;
        try {
          skeinTurn = await appendTurn(
            skein,
            threadId,
            mode,
            'Question from Skein',
            'Skein answer',
          );
          expect.soft(skein.warnings, 'skein store warnings').toEqual([]);
        } finally {
          await skein.close();
        }
        let codexTurn: string | undefined;
        await using(Peer.codex('0.169.0', home.home), async (codex) => {
          await expectConsistentFile(codex, home, threadId, mode, 'after skein appended');
          const cold = await codex.turns(threadId);
          expect.soft(ids(cold), 'codex cold turns/list').toEqual([...before, skeinTurn]);
          const last = cold.at(-1);
          expect.soft(last === undefined ? null : turnTexts(last)).toEqual({
            user: ['Question from Skein'],
            agent: ['Skein answer'],
          });
          const read = await codex.attempt<{ thread: { turns: WireTurn[] } }>('thread/read', {
            threadId,
            includeTurns: true,
          });
          expect
            .soft(read.ok ? ids(read.value.thread.turns) : read.error, 'codex read includeTurns')
            .toEqual([...before, skeinTurn]);
          const resumed = await codex.attempt<{ thread: { turns: WireTurn[] } }>('thread/resume', {
            threadId,
          });
          expect
            .soft(resumed.ok ? ids(resumed.value.thread.turns) : resumed.error, 'codex resume')
            .toEqual([...before, skeinTurn]);
          if (withModel(kind) && resumed.ok) {
            codexTurn = await codex.runTurn(threadId, 'Codex continues after Skein');
            await expectConsistentFile(codex, home, threadId, mode, 'after codex continued');
          }
          expectHealthyHome(home, '0.169.0', [codex]);
        });
        if (codexTurn !== undefined) {
          // And back: a fresh Skein reads Codex's turn after its own.
          await using(Peer.skein(home.home), async (skeinPeer) => {
            expect
              .soft(ids(await skeinPeer.turns(threadId)), 'skein after codex continued')
              .toEqual([...before, skeinTurn, codexTurn]);
          });
        }
      });
    },
  );

  it.each(castPairs(ALL_HOMES, 'fork'))('fork, whole and at a turn: %s, %s', async (kind, mode) => {
    await install(kind, async (home) => {
      const pair = CASTS[kind].fork[mode];
      if (pair === undefined) throw new Error('no fork pair');
      const source = home.thread(pair.source);
      const firstTurn = source.turnIds[0] ?? '';
      const forks = await using(Peer.skein(home.home), async (skein) => {
        const whole = await skein.request<{ thread: { id: string } }>('thread/fork', {
          threadId: source.id,
          excludeTurns: true,
        });
        const atTurn = await skein.request<{ thread: { id: string } }>('thread/fork', {
          threadId: source.id,
          lastTurnId: firstTurn,
          excludeTurns: true,
        });
        return { whole: whole.thread.id, atTurn: atTurn.thread.id };
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        for (const [forkId, expected] of [
          [forks.whole, source.turnIds],
          [forks.atTurn, [firstTurn]],
        ] as const) {
          const read = await codex.attempt<{
            thread: { turns: WireTurn[]; forkedFromId: string | null; name: string | null };
          }>('thread/read', { threadId: forkId, includeTurns: true });
          expect
            .soft(read.ok ? ids(read.value.thread.turns) : read.error, 'codex reads')
            .toEqual(expected);
          if (read.ok) {
            expect.soft(read.value.thread.forkedFromId).toBe(source.id);
            expect.soft(read.value.thread.name, 'fork takes the source name').toBe(source.name);
          }
          const listed = (await codex.list()).threads.some((thread) => thread.id === forkId);
          expect.soft(listed, 'codex lists the fork').toBe(true);
          const resumed = await codex.attempt('thread/resume', {
            threadId: forkId,
            excludeTurns: true,
          });
          expect.soft(refusal(resumed), 'codex resumes the fork').toBe('(accepted)');
          const again = await codex.attempt<{ thread: { id: string } }>('thread/fork', {
            threadId: forkId,
            excludeTurns: true,
          });
          expect.soft(refusal(again), 'codex forks the fork').toBe('(accepted)');
          if (again.ok) {
            const grandchild = await codex.attempt<{ thread: { turns: WireTurn[] } }>(
              'thread/read',
              { threadId: again.value.thread.id, includeTurns: true },
            );
            expect
              .soft(grandchild.ok ? ids(grandchild.value.thread.turns) : grandchild.error)
              .toEqual(expected);
          }
          if (withModel(kind) && resumed.ok) {
            const turnId = await codex.runTurn(forkId, 'Codex continues a Skein fork');
            expect.soft(ids(await codex.turns(forkId))).toEqual([...expected, turnId]);
          }
        }
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });
});

describe('the real Codex changes history → Skein, open before, answers it', () => {
  it.each(castPairs(ALL_HOMES, 'plain'))(
    'inject_items, then Skein appends: %s, %s',
    async (kind, mode) => {
      await install(kind, async (home) => {
        const version = codexFor(home);
        const [threadId] = plainOf(home, mode);
        const before = home.thread(CASTS[kind].plain[mode]?.[0] ?? '').turnIds;
        await using(Peer.skein(home.home), async (skein) => {
          expect.soft(ids(await skein.turns(threadId))).toEqual(before);
          await using(Peer.codex(version, home.home), async (codex) => {
            await codex.request('thread/resume', { threadId, excludeTurns: true });
            const injected = await codex.attempt('thread/inject_items', {
              threadId,
              items: [INJECTED],
            });
            expect.soft(refusal(injected), `codex ${version} injects`).toBe('(accepted)');
          });
          const read = await skein.attempt<{ thread: { turns: WireTurn[] } }>('thread/read', {
            threadId,
            includeTurns: true,
          });
          expect.soft(read.ok ? ids(read.value.thread.turns) : read.error).toEqual(before);
          expect.soft(ids(await skein.turns(threadId))).toEqual(before);
        });
        // Skein continues after Codex's injected line; Codex reads the result.
        const inProcess = await openSkein(home.home);
        let turnId: string;
        try {
          turnId = await appendTurn(inProcess, threadId, mode, 'Skein after inject', 'Reply');
        } finally {
          await inProcess.close();
        }
        await using(Peer.codex('0.169.0', home.home), async (codex) => {
          await expectConsistentFile(codex, home, threadId, mode, 'skein after codex inject');
          expect.soft(ids(await codex.turns(threadId))).toEqual([...before, turnId]);
        });
      });
    },
  );

  it.each(castPairs(ALL_HOMES, 'plain').filter(([kind]) => withModel(kind)))(
    'a real Codex turn: %s, %s',
    async (kind, mode) => {
      await install(kind, async (home) => {
        const version = codexFor(home);
        const [, threadId] = plainOf(home, mode);
        const before = home.thread(CASTS[kind].plain[mode]?.[1] ?? '').turnIds;
        await using(Peer.skein(home.home), async (skein) => {
          expect.soft(ids(await skein.turns(threadId))).toEqual(before);
          const codexTurn = await using(Peer.codex(version, home.home), async (codex) => {
            await codex.request('thread/resume', { threadId, excludeTurns: true });
            const turnId = await codex.runTurn(threadId, 'A real Codex turn');
            // While Codex still runs: Skein's next answer has the turn.
            const live = await skein.turns(threadId);
            expect.soft(ids(live), 'skein while codex is open').toEqual([...before, turnId]);
            expectHealthyHome(home, version, [codex, skein]);
            return turnId;
          });
          const turns = await skein.turns(threadId);
          expect.soft(ids(turns), 'skein after codex closed').toEqual([...before, codexTurn]);
          const last = turns.at(-1);
          expect
            .soft(last === undefined ? [] : turnTexts(last).user)
            .toEqual(['A real Codex turn']);
          expect
            .soft(last === undefined ? '' : turnTexts(last).agent.join(''))
            .toContain('A real Codex turn');
        });
      });
    },
  );

  it.each(castPairs(ALL_HOMES, 'fork'))(
    'a Codex fork, continued by Skein: %s, %s',
    async (kind, mode) => {
      await install(kind, async (home) => {
        const version = codexFor(home);
        const pair = CASTS[kind].fork[mode];
        if (pair === undefined) throw new Error('no fork pair');
        const source = home.thread(pair.source);
        const forkId = await using(Peer.skein(home.home), async (skein) => {
          await skein.list();
          return using(Peer.codex(version, home.home), async (codex) => {
            const forked = await codex.request<{ thread: { id: string } }>('thread/fork', {
              threadId: source.id,
              excludeTurns: true,
            });
            const id = forked.thread.id;
            const codexView = await codex.read(id);
            const read = await skein.attempt<{
              thread: { turns: WireTurn[]; forkedFromId: string | null; name: string | null };
            }>('thread/read', { threadId: id, includeTurns: true });
            expect
              .soft(read.ok ? ids(read.value.thread.turns) : read.error, 'skein reads the fork')
              .toEqual(source.turnIds);
            if (read.ok) {
              expect.soft(read.value.thread.forkedFromId).toBe(source.id);
              expect.soft(read.value.thread.name, 'name as codex answers it').toBe(codexView.name);
            }
            const listed = (await skein.list()).threads.some((thread) => thread.id === id);
            expect.soft(listed, 'skein lists the fork').toBe(true);
            return id;
          });
        });
        const inProcess = await openSkein(home.home);
        let turnId: string;
        try {
          turnId = await appendTurn(inProcess, forkId, mode, 'Skein continues', 'Skein reply');
        } finally {
          await inProcess.close();
        }
        await using(Peer.codex('0.169.0', home.home), async (codex) => {
          await expectConsistentFile(codex, home, forkId, mode, 'skein continued a codex fork');
          expect
            .soft(ids(await codex.turns(forkId)), 'codex reads skein turn on its fork')
            .toEqual([...source.turnIds, turnId]);
        });
      });
    },
  );
});
