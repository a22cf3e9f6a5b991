import { deleteThread, getThread, newThreadId } from '@skein/state';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveThread } from '../src/index.js';
import { localHarness, noGit } from './local-harness.js';

/*
 * Every user message a LiveThread appends sends a touch (`updatedAtMs` only, spec §6.2). The
 * local store applies it as one UPDATE; these tests pin what that must still do.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const userMessage = (text: string) => ({
  type: 'event_msg' as const,
  payload: { type: 'user_message', message: text, images: [], local_images: [] },
});

async function liveThread() {
  // Recency is a column of 0.169's schema (0.131's reads it as the update time).
  const h = await localHarness(true, '0.169.0');
  cleanups.push(async () => h.cleanup?.());
  const threadId = newThreadId();
  const live = await LiveThread.create(
    h.store,
    {
      threadId,
      source: 'cli',
      originator: 'skein_test',
      baseInstructions: null,
      metadata: { cwd: h.cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
    },
    noGit,
  );
  const db = h.stateDb;
  if (db === undefined) throw new Error('harness has no state DB');
  return { h, live, threadId, db };
}

describe('LiveThread touches through LocalThreadStore', () => {
  it('a later user message moves updated_at forward and leaves the derived facts', async () => {
    const { live, threadId, db } = await liveThread();
    await live.appendItems([userMessage('first question')]);
    await live.flush();
    const before = await getThread(db.ctx, threadId);
    expect(before?.firstUserMessage).toBe('first question');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await live.appendItems([userMessage('second question')]);
    const after = await getThread(db.ctx, threadId);
    expect(after?.updatedAtMs).toBeGreaterThan(before?.updatedAtMs ?? Number.POSITIVE_INFINITY);
    expect({ ...after, updatedAtMs: 0 }).toEqual({ ...before, updatedAtMs: 0 });
    await live.shutdown();
  });

  it('a touch for a thread whose row is gone rebuilds the row', async () => {
    const { live, threadId, db } = await liveThread();
    await live.appendItems([userMessage('first question')]);
    await live.flush();
    await deleteThread(db.ctx, threadId);
    await live.appendItems([userMessage('second question')]);
    const row = await getThread(db.ctx, threadId);
    expect(row?.id).toBe(threadId);
    expect(row?.firstUserMessage).toBe('first question');
    await live.shutdown();
  });
});
