/**
 * Conformance: Turn and item paging: cursors both ways, malformed cursors, or the documented refusal.
 */
import { newThreadId } from '@skein/protocol';
import { expect, it } from 'vitest';
import { ThreadStoreError } from '../../errors.js';
import {
  agentMessageItem,
  createThreadParams,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the turn and item paging tests. */
export function describeTurnsItemsConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread, threadWithTurns } = suite;

  if (caps.turns) {
    it('lists turns with cursors in both directions', async () => {
      const h = await setup();
      const params = createThreadParams(h.cwd);
      await h.store.createThread(params);
      const threadId = params.threadId;
      for (const turn of ['t1', 't2', 't3']) {
        await h.store.appendItems({
          threadId,
          items: [
            turnStartedItem(turn),
            userMessageItem(`ask ${turn}`),
            agentMessageItem(`answer ${turn}`),
            turnCompleteItem(turn, `answer ${turn}`),
          ],
        });
      }
      await h.store.persistThread(threadId);
      const all = await h.store.listTurns({ threadId, pageSize: 10, itemsView: 'full' });
      expect(all.turns.map((turn) => turn.turnId)).toEqual(['t1', 't2', 't3']);
      expect(all.turns.every((turn) => turn.status === 'completed')).toBe(true);
      expect(all.turns[0]?.items.length).toBe(4);
      const first = await h.store.listTurns({ threadId, pageSize: 2 });
      expect(first.turns.map((turn) => turn.turnId)).toEqual(['t1', 't2']);
      expect(first.nextCursor).not.toBeNull();
      const second = await h.store.listTurns({ threadId, pageSize: 2, cursor: first.nextCursor });
      expect(second.turns.map((turn) => turn.turnId)).toEqual(['t3']);
      expect(second.nextCursor).toBeNull();
      expect(second.backwardsCursor).not.toBeNull();
      const back = await h.store.listTurns({
        threadId,
        pageSize: 2,
        cursor: second.backwardsCursor,
        sortDirection: 'desc',
      });
      expect(back.turns.map((turn) => turn.turnId)).toEqual(['t2', 't1']);
      const newestFirst = await h.store.listTurns({
        threadId,
        pageSize: 10,
        sortDirection: 'desc',
      });
      expect(newestFirst.turns.map((turn) => turn.turnId)).toEqual(['t3', 't2', 't1']);
      const bare = await h.store.listTurns({ threadId, pageSize: 10, itemsView: 'notLoaded' });
      expect(bare.turns.every((turn) => turn.items.length === 0)).toBe(true);
    });
  } else {
    it('reports list_turns as unsupported', async () => {
      const h = await setup();
      const error = await expectThreadStoreError(
        h.store.listTurns({ threadId: newThreadId(), pageSize: 10 }),
        'Unsupported',
      );
      expect(error.operation).toBe('list_turns');
    });
  }

  if (caps.items === true) {
    it('lists items of a thread or a turn with cursors in both directions', async () => {
      const h = await setup();
      const threadId = await threadWithTurns(h, ['t1', 't2']);
      const all = await h.store.listItems({ threadId, pageSize: 100 });
      expect(all.items.length).toBe(7);
      expect(all.items.map((item) => item.itemOrdinal)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      const second = await h.store.listItems({ threadId, turnId: 't2', pageSize: 100 });
      expect(second.items.map((item) => item.turnId)).toEqual(['t2', 't2', 't2']);
      const page1 = await h.store.listItems({ threadId, pageSize: 4 });
      const page2 = await h.store.listItems({ threadId, pageSize: 4, cursor: page1.nextCursor });
      expect(page2.items.map((item) => item.itemOrdinal)).toEqual([4, 5, 6]);
      expect(page2.nextCursor).toBeNull();
      const back = await h.store.listItems({
        threadId,
        pageSize: 2,
        cursor: page2.backwardsCursor,
        sortDirection: 'desc',
      });
      expect(back.items.map((item) => item.itemOrdinal)).toEqual([3, 2]);
      expect(JSON.parse(all.items[2]?.materializedThreadItemJson ?? '{}')).toMatchObject({
        type: 'event_msg',
        payload: { type: 'user_message', message: 'ask t1' },
      });
    });

    it('rejects turn and item cursors that are malformed or of the other kind', async () => {
      const h = await setup();
      const threadId = await threadWithTurns(h, ['t1', 't2']);
      const turnCursor = (await h.store.listTurns({ threadId, pageSize: 1 })).nextCursor;
      const itemCursor = (await h.store.listItems({ threadId, pageSize: 1 })).nextCursor;
      expect(turnCursor).not.toBeNull();
      expect(itemCursor).not.toBeNull();
      const emptyJson = Buffer.from('{}').toString('base64url');
      for (const cursor of ['not a cursor', emptyJson, itemCursor]) {
        await expectThreadStoreError(
          h.store.listTurns({ threadId, pageSize: 5, cursor }),
          'InvalidRequest',
          'invalid cursor',
        );
      }
      for (const cursor of ['not a cursor', emptyJson, turnCursor]) {
        await expectThreadStoreError(
          h.store.listItems({ threadId, pageSize: 5, cursor }),
          'InvalidRequest',
          'invalid cursor',
        );
      }
    });
  }

  it('reports list_items as unsupported or answers it', async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'items');
    try {
      const page = await h.store.listItems({ threadId, pageSize: 10 });
      expect(page.items.length).toBeGreaterThan(0);
    } catch (error) {
      expect(error).toBeInstanceOf(ThreadStoreError);
      expect((error as ThreadStoreError).operation).toBe('list_items');
    }
  });
}
