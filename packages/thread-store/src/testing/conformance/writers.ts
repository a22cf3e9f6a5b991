/**
 * Conformance: Live writers: paginated history (or its refusal), discard, concurrent appends, resume,
 * duplicate writers, the cwd requirement.
 */
import { newThreadId } from '@skein/protocol';
import { expect, it } from 'vitest';
import { LiveThread } from '../../live-thread.js';
import type { ThreadId } from '../../types.js';
import {
  createThreadParams,
  paginatedTurnItems,
  resumeThreadParams,
  userMessageItem,
} from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the live-writer tests. */
export function describeWriterConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;

  if (caps.paginatedHistory === true) {
    it('writes paginated history: contiguous ordinals, turns read back, resume continues', async () => {
      const h = await setup();
      const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
      const live = await LiveThread.create(h.store, params);
      await live.appendItems(paginatedTurnItems(newThreadId(), 'first paginated', 'reply one'));
      await live.shutdown();
      const resumed = await LiveThread.resume(h.store, resumeThreadParams(params.threadId, h.cwd));
      await resumed.appendItems(paginatedTurnItems(newThreadId(), 'second', 'reply two'));
      await resumed.shutdown();
      const thread = await h.store.readThread({
        threadId: params.threadId,
        includeHistory: true,
      });
      expect(thread.historyMode).toBe('paginated');
      expect(thread.preview).toBe('first paginated');
      const turns = await h.store.listTurns({ threadId: params.threadId, pageSize: 10 });
      expect(turns.turns.length).toBe(2);
    });
  } else {
    it('refuses paginated history with Unsupported(paginated_threads)', async () => {
      const h = await setup();
      const error = await expectThreadStoreError(
        h.store.createThread(createThreadParams(h.cwd, { historyMode: 'paginated' })),
        'Unsupported',
      );
      expect(error.operation).toBe('paginated_threads');
      expect(error.message).toBe('thread-store unsupported operation: paginated_threads');
    });
  }

  it('discards idempotently and keeps durable history', async () => {
    const h = await setup();
    const { threadId, live } = await recordThread(h, 'durable before discard');
    await live.discard();
    await h.store.discardThread(threadId);
    const history = await h.store.loadHistory({ threadId });
    expect(
      history.items.some(
        (item) => (item.payload as { message?: string }).message === 'durable before discard',
      ),
    ).toBe(true);
  });

  it('keeps per-thread order under concurrent appends to many threads', async () => {
    const h = await setup();
    const ids: ThreadId[] = [];
    for (let index = 0; index < 4; index += 1) {
      const params = createThreadParams(h.cwd);
      await h.store.createThread(params);
      ids.push(params.threadId);
    }
    await Promise.all(
      ids.map(async (threadId) => {
        for (let index = 0; index < 10; index += 1) {
          await h.store.appendItems({ threadId, items: [userMessageItem(`m${index}`)] });
        }
        await h.store.flushThread(threadId);
      }),
    );
    for (const threadId of ids) {
      const history = await h.store.loadHistory({ threadId });
      const messages = history.items
        .filter((item) => item.type === 'event_msg')
        .map((item) => (item.payload as { message?: string }).message);
      expect(messages).toEqual(Array.from({ length: 10 }, (_, index) => `m${index}`));
    }
  });

  it('resumes a thread and appends after its history', async () => {
    const h = await setup();
    const { threadId, live } = await recordThread(h, 'before resume');
    await live.shutdown();
    const store = h.reopen === undefined ? h.store : await h.reopen();
    const resumed = await LiveThread.resume(store, resumeThreadParams(threadId, h.cwd));
    await resumed.appendItems([userMessageItem('after resume')]);
    await resumed.flush();
    const history = await store.loadHistory({ threadId });
    const messages = history.items
      .filter((item) => item.type === 'event_msg')
      .map((item) => (item.payload as { message?: string }).message);
    expect(messages).toEqual(['before resume', 'after resume']);
    const thread = await store.readThread({ threadId });
    expect(thread.firstUserMessage).toBe('before resume');
    await resumed.shutdown();
  });

  if (caps.liveWriters) {
    it('refuses a duplicate live writer and appends after shutdown', async () => {
      const h = await setup();
      const params = createThreadParams(h.cwd);
      await h.store.createThread(params);
      await expectThreadStoreError(h.store.createThread(params), 'InvalidRequest');
      await h.store.appendItems({ threadId: params.threadId, items: [userMessageItem('x')] });
      await h.store.shutdownThread(params.threadId);
      await expectThreadStoreError(
        h.store.appendItems({ threadId: params.threadId, items: [userMessageItem('late')] }),
        'ThreadNotFound',
      );
      await expectThreadStoreError(h.store.flushThread(params.threadId), 'ThreadNotFound');
    });
  }

  if (caps.requiresCwd) {
    it('refuses a thread without a cwd', async () => {
      const h = await setup();
      await expectThreadStoreError(
        h.store.createThread(createThreadParams(null)),
        'InvalidRequest',
        'requires a cwd',
      );
    });
  }
}
