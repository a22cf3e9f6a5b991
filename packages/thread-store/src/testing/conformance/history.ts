/**
 * Conformance: Reading history back: order, creation time, the persistence policy, history on request,
 * unknown threads, reads by rollout path.
 */
import { newThreadId } from '@skein/protocol';
import { expect, it } from 'vitest';
import { LiveThread } from '../../live-thread.js';
import {
  agentMessageItem,
  createThreadParams,
  droppedEventItem,
  userMessageItem,
} from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the history-reading tests. */
export function describeHistoryConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;

  it('appends history in order and loads it back with the session meta first', async () => {
    const h = await setup();
    const params = createThreadParams(h.cwd);
    await h.store.createThread(params);
    await h.store.appendItems({
      threadId: params.threadId,
      items: [userMessageItem('first'), agentMessageItem('second')],
    });
    await h.store.persistThread(params.threadId);
    await h.store.appendItems({ threadId: params.threadId, items: [userMessageItem('third')] });
    await h.store.flushThread(params.threadId);
    const history = await h.store.loadHistory({ threadId: params.threadId });
    expect(history.threadId).toBe(params.threadId);
    expect(history.items[0]?.type).toBe('session_meta');
    expect((history.items[0]?.payload as { id?: string } | undefined)?.id).toBe(params.threadId);
    const messages = history.items
      .filter((item) => item.type === 'event_msg')
      .map((item) => (item.payload as { message?: string }).message);
    expect(messages).toEqual(['first', 'second', 'third']);
  });

  it('keeps one creation time: the one given, in the session meta and every read', async () => {
    const h = await setup();
    // Whole seconds: a local store names its rollout file by the second.
    const createdAtMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const params = { ...createThreadParams(h.cwd), createdAtMs };
    const live = await LiveThread.create(h.store, params, { collectGitInfo: async () => null });
    await live.appendItems([userMessageItem('when was I made?')]);
    await live.persist();
    await live.flush();
    await live.appendItems([agentMessageItem('an hour ago')]);
    await live.flush();
    const history = await h.store.loadHistory({ threadId: params.threadId });
    const meta = history.items[0]?.payload as { timestamp?: string } | undefined;
    expect(meta?.timestamp).toBe(new Date(createdAtMs).toISOString());
    expect((await h.store.readThread({ threadId: params.threadId })).createdAtMs).toBe(createdAtMs);
    await live.shutdown();
    expect((await h.store.readThread({ threadId: params.threadId })).createdAtMs).toBe(createdAtMs);
  });

  it('applies the persistence policy to raw appends', async () => {
    const h = await setup();
    const params = createThreadParams(h.cwd);
    await h.store.createThread(params);
    await h.store.appendItems({
      threadId: params.threadId,
      items: [droppedEventItem(), userMessageItem('kept')],
    });
    // A batch the policy empties entirely is accepted and writes nothing.
    await h.store.appendItems({ threadId: params.threadId, items: [droppedEventItem()] });
    await h.store.persistThread(params.threadId);
    const history = await h.store.loadHistory({ threadId: params.threadId });
    const kinds = history.items.map((item) => (item.payload as { type?: string }).type);
    expect(kinds).not.toContain('exec_command_begin');
    expect(history.items.filter((item) => item.type === 'event_msg')).toHaveLength(1);
  });

  it('attaches history only when asked', async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'with history');
    const withHistory = await h.store.readThread({ threadId, includeHistory: true });
    expect(withHistory.history?.threadId).toBe(threadId);
    expect(withHistory.history?.items[0]?.type).toBe('session_meta');
    expect(
      withHistory.history?.items.some(
        (item) => (item.payload as { message?: string }).message === 'with history',
      ),
    ).toBe(true);
  });

  it('rejects reads of unknown threads', async () => {
    const h = await setup();
    const unknown = newThreadId();
    await expectThreadStoreError(h.store.readThread({ threadId: unknown }), [
      'ThreadNotFound',
      'InvalidRequest',
    ]);
    await expectThreadStoreError(h.store.loadHistory({ threadId: unknown }), [
      'ThreadNotFound',
      'InvalidRequest',
    ]);
  });

  if (caps.rolloutPaths) {
    it('reads a thread by its rollout path', async () => {
      const h = await setup();
      const { threadId } = await recordThread(h, 'by path');
      const thread = await h.store.readThread({ threadId });
      expect(thread.rolloutPath).not.toBeNull();
      const byPath = await h.store.readThreadByRolloutPath({
        rolloutPath: thread.rolloutPath ?? '',
        includeHistory: true,
      });
      expect(byPath.threadId).toBe(threadId);
      expect(byPath.history?.items.length).toBeGreaterThan(1);
    });
  } else {
    it('rejects reads by an unknown rollout path with InvalidRequest', async () => {
      const h = await setup();
      await expectThreadStoreError(
        h.store.readThreadByRolloutPath({ rolloutPath: '/nowhere/rollout-x.jsonl' }),
        'InvalidRequest',
      );
    });
  }
}
