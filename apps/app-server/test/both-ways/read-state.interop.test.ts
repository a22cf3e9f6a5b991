/**
 * Read receipts both ways (Codex 0.169's `thread_read_receipts`): marks read / unread with the
 * revision compare-and-set, and the receipt a completed turn publishes.
 * - Skein (its ThreadManager: the app-server has no `thread/readState/update`) marks threads and
 *   appends a turn; the real Codex 0.169 answers the same `readState` and `readStates`, and its
 *   own compare-and-set accepts Skein's revision and refuses an older one.
 * - The real Codex marks threads and runs a turn while Skein is open; Skein's store and Skein's
 *   app-server (`thread/read` `readState`, `thread/list` `readStates`) answer what Codex does.
 * - On a home whose DB is 0.131's, Codex's DB has no receipts table: Skein keeps its marks in its
 *   own sidecar (as 0.169 would keep them after migrating the DB), never in Codex's file; the
 *   0.169 binary, which migrates the home and starts with an empty table, reads `initial:<id>`.
 */
import type { ThreadId } from '@skein/state';
import type { ThreadReadState } from '@skein/thread-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../../../../packages/test-support/src/recorder/mock-model.js';
import { CASTS, castPairs } from './support/cast.js';
import { expectHealthyHome, onHome, refusal, using } from './support/checks.js';
import type { HistoryMode, HomeKind, TestHome } from './support/homes.js';
import { Peer, type WireReadState } from './support/peers.js';
import { appendTurn, openSkein } from './support/skein.js';

let model: MockModelServer;
beforeAll(async () => {
  model = await MockModelServer.start();
});
afterAll(async () => {
  await model?.close();
});

const RECEIPT_HOMES: readonly HomeKind[] = ['fixture-0.169', 'recorded-0.169', 'recorded-mixed'];
const OLD_HOMES: readonly HomeKind[] = ['fixture-0.131', 'recorded-0.131'];

function install<T>(kind: HomeKind, body: (home: TestHome) => Promise<T>): Promise<T> {
  return onHome(kind, body, kind.startsWith('recorded-') ? { modelPort: model.port } : {});
}

function plainOf(home: TestHome, mode: HistoryMode): [ThreadId, ThreadId] {
  const plain = CASTS[home.kind].plain[mode];
  if (plain === undefined) throw new Error(`${home.kind} has no ${mode} threads`);
  return [home.thread(plain[0]).id as ThreadId, home.thread(plain[1]).id as ThreadId];
}

function wire(state: ThreadReadState | undefined): WireReadState | null {
  if (state === undefined) return null;
  return { firstUnread: state.firstUnread, revision: state.revision } as WireReadState;
}

async function codexState(codex: Peer, threadId: string): Promise<WireReadState | null> {
  return (await codex.readWithState(threadId)).readState;
}

describe('Skein marks and publishes receipts → the real Codex 0.169 answers them', () => {
  it.each(castPairs(RECEIPT_HOMES, 'plain'))('%s, %s threads', async (kind, mode) => {
    await install(kind, async (home) => {
      const [read, unread] = plainOf(home, mode);
      const skein = await openSkein(home.home);
      let expected: Map<ThreadId, ThreadReadState>;
      let superseded: string;
      try {
        const initial = await skein.manager.readStates([read, unread]);
        const marked = await skein.manager.updateReadState({
          threadId: read,
          operation: 'read',
          expectedRevision: initial.get(read)?.revision ?? null,
        });
        expect.soft(marked.firstUnread).toBeNull();
        await skein.manager.updateReadState({
          threadId: unread,
          operation: 'unread',
          expectedRevision: initial.get(unread)?.revision ?? null,
        });
        // A stale revision is refused by Skein as by Codex.
        await expect(
          skein.manager.updateReadState({
            threadId: read,
            operation: 'unread',
            expectedRevision: initial.get(read)?.revision ?? null,
          }),
        ).rejects.toThrow(/read state changed|revision/i);
        // A turn completed on a read thread makes it unread from that turn (0.169's publish).
        const turnId = await appendTurn(skein, read, mode, 'Skein turn for a receipt', 'Reply');
        expected = await skein.manager.readStates([read, unread]);
        expect.soft(expected.get(read)?.firstUnread).toEqual({ type: 'turn', turnId });
        expect.soft(expected.get(unread)?.firstUnread).toEqual({ type: 'threadStart' });
        superseded = marked.revision;
      } finally {
        await skein.close();
      }
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        for (const id of [read, unread]) {
          expect
            .soft(await codexState(codex, id), `thread/read readState of ${id}`)
            .toEqual(wire(expected.get(id)));
        }
        const { readStates } = await codex.list();
        for (const id of [read, unread]) {
          if (readStates?.[id] === undefined) continue; // a thread of another provider page
          expect
            .soft(readStates[id], `thread/list readStates of ${id}`)
            .toEqual(wire(expected.get(id)));
        }
        const stale = await codex.attempt('thread/readState/update', {
          threadId: read,
          operation: { type: 'read' },
          expectedRevision: superseded,
        });
        expect
          .soft(refusal(stale), 'codex refuses a revision skein superseded')
          .toContain('read state changed');
        const accepted = await codex.attempt('thread/readState/update', {
          threadId: read,
          operation: { type: 'read' },
          expectedRevision: expected.get(read)?.revision,
        });
        expect.soft(refusal(accepted), "codex accepts skein's revision").toBe('(accepted)');
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });
});

describe('the real Codex marks and publishes receipts → Skein, open before, answers them', () => {
  it.each(castPairs(RECEIPT_HOMES, 'plain'))('%s, %s threads', async (kind, mode) => {
    await install(kind, async (home) => {
      const [read, unread] = plainOf(home, mode);
      const skein = await openSkein(home.home);
      try {
        await using(Peer.skein(home.home), async (skeinServer) => {
          await skein.manager.readStates([read, unread]);
          await skeinServer.list();
          await using(Peer.codex('0.169.0', home.home), async (codex) => {
            for (const [threadId, type] of [
              [read, 'read'],
              [unread, 'unread'],
            ] as const) {
              const current = await codexState(codex, threadId);
              await codex.request('thread/readState/update', {
                threadId,
                operation: { type },
                expectedRevision: current?.revision,
              });
            }
            if (kind.startsWith('recorded-')) {
              await codex.request('thread/resume', { threadId: read, excludeTurns: true });
              await codex.runTurn(read, 'A Codex turn publishes a receipt');
            }
            const states = await skein.manager.readStates([read, unread]);
            for (const id of [read, unread]) {
              const codexView = await codexState(codex, id);
              expect
                .soft(wire(states.get(id)), `skein store readState of ${id}`)
                .toEqual(codexView);
              const served = await skeinServer.readWithState(id);
              expect
                .soft(served.readState, `skein app-server thread/read of ${id}`)
                .toEqual(codexView);
            }
            const codexList = (await codex.list()).readStates ?? {};
            const skeinList = (await skeinServer.list()).readStates ?? {};
            for (const id of [read, unread]) {
              expect
                .soft(skeinList[id], `skein app-server thread/list readStates of ${id}`)
                .toEqual(codexList[id]);
            }
            expectHealthyHome(home, '0.169.0', [codex, skeinServer]);
          });
          // Skein's compare-and-set takes Codex's revision.
          const current = await skein.manager.readStates([read]);
          const marked = await skein.manager
            .updateReadState({
              threadId: read,
              operation: 'read',
              expectedRevision: current.get(read)?.revision ?? null,
            })
            .then(
              () => '(accepted)',
              (error: unknown) => String(error),
            );
          expect.soft(marked, "skein accepts codex's revision").toBe('(accepted)');
        });
      } finally {
        await skein.close();
      }
    });
  });
});

describe("a home whose DB is 0.131: receipts in Skein's sidecar", () => {
  it.each(OLD_HOMES)('%s', async (kind) => {
    await install(kind, async (home) => {
      const [threadId] = plainOf(home, 'legacy');
      const skein = await openSkein(home.home);
      try {
        const states = await skein.manager.readStates([threadId]);
        expect(states.get(threadId)).toEqual({
          firstUnread: null,
          revision: `initial:${threadId}`,
        });
        const marked = await skein.manager.updateReadState({
          threadId,
          operation: 'unread',
          expectedRevision: `initial:${threadId}`,
        });
        expect(marked.firstUnread).toEqual({ type: 'threadStart' });
        expect((await skein.manager.readStates([threadId])).get(threadId)).toEqual(marked);
        await expect(
          skein.manager.updateReadState({
            threadId,
            operation: 'read',
            expectedRevision: `initial:${threadId}`,
          }),
        ).rejects.toThrow(/read state changed/);
        // A turn Skein appends keeps the thread unread from its start, and fails nothing.
        await appendTurn(skein, threadId, 'legacy', 'A receipt in the sidecar', 'Reply');
        expect(skein.warnings).toEqual([]);
        expect((await skein.manager.readStates([threadId])).get(threadId)?.firstUnread).toEqual({
          type: 'threadStart',
        });
      } finally {
        await skein.close();
      }
      // The 0.169 binary reads it the same way once it has migrated the home.
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        expect(await codexState(codex, threadId)).toEqual({
          firstUnread: null,
          revision: `initial:${threadId}`,
        });
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });
});
