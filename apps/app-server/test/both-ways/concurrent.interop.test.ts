/**
 * Skein and the real Codex app-server on ONE home at the same time.
 * - Both start together on a home with rollouts and no DB: the home is indexed once (Codex's
 *   `backfill_state` claim decides who imports; Skein's sidecar counts what Skein imported),
 *   both answer, and they answer the same threads.
 * - Both change different threads at once (names, git, archive, unarchive, real turns, turns
 *   Skein appends): nothing is lost, no request fails, nobody reports a locked database.
 * - Both change the same thread at once (metadata from both sides, a rename during a Codex
 *   turn), and the thread's writer is exclusive: a thread one process has resumed for writing
 *   is refused to the other, as a second Codex is refused (`already has an active writer`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { newThreadId, type ThreadId } from '@skein/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../../../../packages/test-support/src/recorder/mock-model.js';
import { queryCodexDb } from '../../../../packages/test-support/test/support/codex-db.js';
import { expectHealthyHome, gitOf, onHome, refusal, using } from './support/checks.js';
import { type HomeKind, installHomeWithoutDb, type TestHome } from './support/homes.js';
import { Peer, type WireTurn } from './support/peers.js';
import { paginatedProblems } from './support/rollout.js';
import { appendTurn, openSkein } from './support/skein.js';

let model: MockModelServer;
beforeAll(async () => {
  model = await MockModelServer.start();
});
afterAll(async () => {
  await model?.close();
});

function rolloutCount(home: string): number {
  const walk = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (sum, entry) =>
        sum +
        (entry.isDirectory()
          ? walk(join(dir, entry.name))
          : entry.name.startsWith('rollout-') && entry.name.endsWith('.jsonl')
            ? 1
            : 0),
      0,
    );
  return walk(join(home, 'sessions')) + walk(join(home, 'archived_sessions'));
}

function ids(turns: readonly WireTurn[]): string[] {
  return turns.map((turn) => turn.id);
}

type StartOrder = 'together' | 'codex first' | 'skein first';

describe('both start on a home with rollouts and no DB: one backfill', () => {
  const cases: [HomeKind, StartOrder][] = (['recorded-0.169', 'recorded-0.131'] as const).flatMap(
    (kind) => (['together', 'codex first', 'skein first'] as const).map((order) => [kind, order]),
  ) as [HomeKind, StartOrder][];

  it.each(cases)('%s, %s', async (kind, order) => {
    const home: TestHome = installHomeWithoutDb(kind);
    try {
      const files = rolloutCount(home.home);
      const started: Peer[] = [];
      const startCodex = () => Peer.codex('0.169.0', home.home).then((p) => started.push(p));
      const startSkein = () => Peer.skein(home.home).then((p) => started.push(p));
      if (order === 'together') await Promise.all([startCodex(), startSkein()]);
      if (order === 'codex first') await Promise.all([startCodex(), delay(150).then(startSkein)]);
      if (order === 'skein first') await Promise.all([startSkein(), delay(150).then(startCodex)]);
      try {
        const [first, second] = started;
        if (first === undefined || second === undefined) throw new Error('a peer did not start');
        const [a, b] = await Promise.all([
          first.listedIds(false).then((set) => [...set].sort()),
          second.listedIds(false).then((set) => [...set].sort()),
        ]);
        expect.soft(a.length).toBeGreaterThan(0);
        expect.soft(b, 'both list the same threads').toEqual(a);
        const [backfill] = queryCodexDb(
          home.home,
          'state_5.sqlite',
          'select * from backfill_state',
        );
        expect.soft(backfill?.status).toBe('complete');
        const rows = queryCodexDb(home.home, 'state_5.sqlite', 'select count(*) as n from threads');
        expect.soft(Number(rows[0]?.n), 'one row per rollout').toBe(files);
        // Skein imports only when it won the claim, and then every file exactly once.
        const progress = queryCodexDb(
          home.home,
          'skein_1.sqlite',
          'select files_done, files_failed from backfill_progress',
        );
        if (progress.length > 0) {
          expect.soft(Number(progress[0]?.files_done), 'skein imported each file once').toBe(files);
          expect.soft(Number(progress[0]?.files_failed)).toBe(0);
        }
        expectHealthyHome(home, '0.169.0', started);
      } finally {
        await Promise.all(started.map((peer) => peer.close()));
      }
    } finally {
      home.remove();
    }
  });
});

const SKEIN_SIDE = { paginated: ['P1', 'P5', 'P7'], legacy: ['L1'] };
const CODEX_SIDE = { paginated: ['P2', 'P6', 'P8'], legacy: ['L3'] };

describe('both change different threads at the same time', () => {
  it('recorded-0.169: names, git, archive, unarchive, turns from both sides', async () => {
    await onHome(
      'recorded-0.169',
      async (home) => {
        const skeinThreads = [...SKEIN_SIDE.paginated, ...SKEIN_SIDE.legacy].map(
          (key) => home.thread(key).id,
        );
        const codexThreads = [...CODEX_SIDE.paginated, ...CODEX_SIDE.legacy].map(
          (key) => home.thread(key).id,
        );
        const archivedBySkein = [home.thread('P4'), home.thread('P4c'), home.thread('P4g')];
        const unarchivedByCodex = home.thread('P10');
        const turnBySkein = home.thread('P9');
        const turnByCodex = home.thread('X1');
        const [codex, skein] = await Promise.all([
          Peer.codex('0.169.0', home.home),
          Peer.skein(home.home),
        ]);
        const inProcess = await openSkein(home.home);
        let skeinTurn = '';
        let codexTurn = '';
        try {
          const writes = (peer: Peer, threads: string[], by: string) =>
            threads.flatMap((threadId, i) => [
              peer.request('thread/name/set', { threadId, name: `${by} name ${i}` }),
              peer.request('thread/metadata/update', {
                threadId,
                gitInfo: { branch: `${by}/branch-${i}` },
              }),
            ]);
          const outcomes = await Promise.allSettled([
            ...writes(skein, skeinThreads, 'skein'),
            ...writes(codex, codexThreads, 'codex'),
            skein.request('thread/archive', { threadId: archivedBySkein[0]?.id }),
            codex.request('thread/unarchive', { threadId: unarchivedByCodex.id }),
            codex
              .request('thread/resume', { threadId: turnByCodex.id, excludeTurns: true })
              .then(() => codex.runTurn(turnByCodex.id, 'Codex turn while Skein writes'))
              .then((id) => {
                codexTurn = id;
              }),
            appendTurn(inProcess, turnBySkein.id, 'paginated', 'Skein turn', 'Reply').then((id) => {
              skeinTurn = id;
            }),
          ]);
          const failed = outcomes.flatMap((o) =>
            o.status === 'rejected' ? [String(o.reason)] : [],
          );
          expect.soft(failed, 'every request of both sides succeeded').toEqual([]);
          // A receipt publish that lost a race with Codex's writes is reported as a warning;
          // 'read receipts written by both at once' reproduces that every time, so it is left
          // out here to keep this test's outcome independent of timing.
          expect
            .soft(
              inProcess.warnings.filter((w) => !w.startsWith('failed to publish the read receipt')),
            )
            .toEqual([]);
          expectHealthyHome(home, '0.169.0', [codex, skein]);
        } finally {
          await inProcess.close();
          await Promise.all([codex.close(), skein.close()]);
        }
        // Fresh processes of both agree on every change.
        for (const start of [() => Peer.codex('0.169.0', home.home), () => Peer.skein(home.home)]) {
          await using(start(), async (reader) => {
            for (const [threads, by] of [
              [skeinThreads, 'skein'],
              [codexThreads, 'codex'],
            ] as const) {
              for (const [i, threadId] of threads.entries()) {
                const thread = await reader.read(threadId);
                expect
                  .soft(thread.name, `${reader.label}: name of ${threadId}`)
                  .toBe(`${by} name ${i}`);
                expect
                  .soft(gitOf(thread.gitInfo)?.branch, `${reader.label}: git of ${threadId}`)
                  .toBe(`${by}/branch-${i}`);
              }
            }
            const archived = await reader.listedIds(true);
            for (const t of archivedBySkein) {
              expect.soft(archived.has(t.id), `${reader.label}: ${t.key} archived`).toBe(true);
            }
            const active = await reader.listedIds(false);
            expect
              .soft(active.has(unarchivedByCodex.id), `${reader.label}: P10 unarchived`)
              .toBe(true);
            expect.soft(ids(await reader.turns(turnByCodex.id)).at(-1)).toBe(codexTurn);
            expect.soft(ids(await reader.turns(turnBySkein.id)).at(-1)).toBe(skeinTurn);
          });
        }
        for (const t of [turnByCodex, turnBySkein]) {
          const path = queryCodexDb(
            home.home,
            'state_5.sqlite',
            'select rollout_path from threads where id = ?',
            [t.id],
          )[0]?.rollout_path;
          expect
            .soft(paginatedProblems(home.home, t.id, String(path)), `${t.key} file`)
            .toEqual([]);
        }
      },
      { modelPort: model.port },
    );
  });
});

describe('read receipts written by both at once', () => {
  it('recorded-0.169: 150 marks from each side and 150 turn receipts from Skein, none fails', async () => {
    await onHome('recorded-0.169', async (home) => {
      const skeinThread = home.thread('P1').id as ThreadId;
      const codexThread = home.thread('P3').id;
      const publishThread = home.thread('P5').id as ThreadId;
      const codex = await Peer.codex('0.169.0', home.home);
      const skein = await openSkein(home.home);
      const errors: string[] = [];
      try {
        const skeinSide = async () => {
          for (let i = 0; i < 150; i += 1) {
            try {
              await skein.manager.updateReadState({
                threadId: skeinThread,
                operation: i % 2 === 0 ? 'unread' : 'read',
                expectedRevision: null,
              });
            } catch (error) {
              errors.push(`skein: ${String(error)}`);
            }
          }
        };
        const codexSide = async () => {
          for (let i = 0; i < 150; i += 1) {
            const current = (await codex.readWithState(codexThread)).readState;
            const marked = await codex.attempt('thread/readState/update', {
              threadId: codexThread,
              operation: { type: i % 2 === 0 ? 'unread' : 'read' },
              expectedRevision: current?.revision,
            });
            if (!marked.ok) errors.push(`codex: ${marked.error}`);
          }
        };
        // Receipts a completed turn publishes (best effort: a failure is a store warning).
        const publishSide = async () => {
          for (let i = 0; i < 150; i += 1) {
            await skein.store.publishTurnCompleted(publishThread, newThreadId());
          }
        };
        await Promise.all([skeinSide(), codexSide(), publishSide()]);
        expect.soft(errors, 'no mark failed on either side').toEqual([]);
        expect.soft(skein.warnings, 'no receipt publish failed').toEqual([]);
        expectHealthyHome(home, '0.169.0', [codex]);
      } finally {
        await skein.close();
        await codex.close();
      }
    });
  });
});

describe('both change the same thread at the same time', () => {
  it('recorded-0.169 P1 (paginated): 25 rounds of git updates from both sides, none lost', async () => {
    await onHome('recorded-0.169', async (home) => {
      const threadId = home.thread('P1').id;
      const [codex, skein] = await Promise.all([
        Peer.codex('0.169.0', home.home),
        Peer.skein(home.home),
      ]);
      const lost: string[] = [];
      try {
        // Each round Skein sets the sha and Codex the branch at once; 0.169 updates only the
        // columns a request names, so both must stay.
        for (let round = 0; round < 25; round += 1) {
          const sha = round.toString(16).padStart(40, 'a');
          const branch = `codex/round-${round}`;
          await Promise.all([
            skein.request('thread/metadata/update', { threadId, gitInfo: { sha } }),
            codex.request('thread/metadata/update', { threadId, gitInfo: { branch } }),
          ]);
          const git = gitOf((await codex.read(threadId)).gitInfo);
          if (git?.sha !== sha || git?.branch !== branch) {
            lost.push(`round ${round}: ${JSON.stringify(git)}`);
          }
        }
        expect(lost, 'rounds where one side overwrote the other').toEqual([]);
        expectHealthyHome(home, '0.169.0', [codex, skein]);
      } finally {
        await Promise.all([codex.close(), skein.close()]);
      }
    });
  });

  it.each([
    ['P1', 'paginated'],
    ['L1', 'legacy'],
  ])(
    'recorded-0.169 %s (%s): Skein renames and updates git during a Codex turn',
    async (key, mode) => {
      await onHome(
        'recorded-0.169',
        async (home) => {
          const threadId = home.thread(key).id;
          const [codex, skein] = await Promise.all([
            Peer.codex('0.169.0', home.home),
            Peer.skein(home.home),
          ]);
          let codexTurn = '';
          try {
            await codex.request('thread/resume', { threadId, excludeTurns: true });
            const [turn, renamed, git] = await Promise.all([
              codex.runTurn(threadId, 'Codex turn during Skein writes'),
              skein.attempt('thread/name/set', { threadId, name: 'Renamed during a Codex turn' }),
              skein.attempt('thread/metadata/update', {
                threadId,
                gitInfo: { sha: '2222222222222222222222222222222222222222' },
              }),
            ]);
            codexTurn = turn;
            // A rename never needs the thread's writer (a second Codex may rename too).
            expect.soft(refusal(renamed), 'skein renames').toBe('(accepted)');
            if (mode === 'paginated') {
              expect.soft(refusal(git), 'skein updates git (DB only)').toBe('(accepted)');
            } else {
              // A legacy git update appends to the rollout Codex is writing: a second Codex is
              // refused (-32603 ... already has an active writer), and so must Skein be.
              expect
                .soft(refusal(git), 'skein legacy git update while codex writes')
                .toContain('already has an active writer');
            }
            expectHealthyHome(home, '0.169.0', [codex, skein]);
          } finally {
            await Promise.all([codex.close(), skein.close()]);
          }
          for (const start of [
            () => Peer.codex('0.169.0', home.home),
            () => Peer.skein(home.home),
          ]) {
            await using(start(), async (reader) => {
              const thread = await reader.read(threadId);
              expect.soft(thread.name, `${reader.label}: name`).toBe('Renamed during a Codex turn');
              expect
                .soft(ids(await reader.turns(threadId)).at(-1), `${reader.label}: turn`)
                .toBe(codexTurn);
            });
          }
        },
        { modelPort: model.port },
      );
    },
  );

  it.each([
    ['P2', 'paginated'],
    ['L3', 'legacy'],
  ])('recorded-0.169 %s (%s): one writer at a time, either way round', async (key, mode) => {
    await onHome(
      'recorded-0.169',
      async (home) => {
        const threadId = home.thread(key).id;
        const before = home.thread(key).turnIds;
        const [codex, skein] = await Promise.all([
          Peer.codex('0.169.0', home.home),
          Peer.skein(home.home),
        ]);
        try {
          // Codex holds the writer: Skein is refused as a second Codex would be.
          await codex.request('thread/resume', { threadId, excludeTurns: true });
          const skeinResume = await skein.attempt('thread/resume', {
            threadId,
            excludeTurns: true,
          });
          expect
            .soft(refusal(skeinResume), 'skein resume while codex writes')
            .toContain(`thread ${threadId} already has an active writer`);
          if (skeinResume.ok) {
            // What goes wrong when it is not refused: both append with their own ordinals.
            await skein.request('thread/inject_items', {
              threadId,
              items: [
                {
                  type: 'message',
                  role: 'user',
                  content: [{ type: 'input_text', text: 'Skein writes beside Codex' }],
                },
              ],
            });
          }
          const codexTurn = await codex.runTurn(threadId, 'Codex writes while Skein was refused');
          expect.soft(ids(await codex.turns(threadId))).toEqual([...before, codexTurn]);
        } finally {
          await Promise.all([codex.close(), skein.close()]);
        }
        if (mode === 'paginated') {
          const path = queryCodexDb(
            home.home,
            'state_5.sqlite',
            'select rollout_path from threads where id = ?',
            [threadId],
          )[0]?.rollout_path;
          expect
            .soft(
              paginatedProblems(home.home, threadId, String(path)),
              'one writer: contiguous ordinals',
            )
            .toEqual([]);
        }
        // The other way round: Skein holds the writer, Codex is refused.
        await using(Peer.skein(home.home), async (skeinWriter) => {
          await skeinWriter.request('thread/resume', { threadId, excludeTurns: true });
          await using(Peer.codex('0.169.0', home.home), async (codex) => {
            const codexResume = await codex.attempt('thread/resume', {
              threadId,
              excludeTurns: true,
            });
            expect
              .soft(refusal(codexResume), 'codex resume while skein writes')
              .toContain(`thread ${threadId} already has an active writer`);
          });
        });
      },
      { modelPort: model.port },
    );
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
