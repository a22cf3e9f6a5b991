/**
 * A rollout that can no longer be read as a thread — emptied, or its first line not a valid
 * session_meta — is a plain invalid request on read (never an internal error), and its row
 * stops being listed; a reindex hides such rows too, and gives them back once the file reads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hideUnreadableRollouts } from '@skein/rollout';
import { getThread, newThreadId } from '@skein/state';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveThread, ThreadStoreError, unreadableRolloutOf } from '../src/index.js';
import { localHarness, noGit } from './local-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const userMessage = (text: string) => ({
  type: 'event_msg' as const,
  payload: { type: 'user_message', message: text, images: [], local_images: [] },
});

async function writtenThread() {
  const h = await localHarness(true);
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
  await live.appendItems([userMessage('a question worth keeping')]);
  await live.shutdown();
  const path = (await h.store.readThread({ threadId })).rolloutPath!;
  return { h, threadId, path };
}

const listedIds = async (h: Awaited<ReturnType<typeof writtenThread>>['h']) =>
  (await h.store.listThreads({ pageSize: 50 })).items.map((t) => t.threadId);

describe('unreadable rollouts (LocalThreadStore)', () => {
  const damages: [string, (text: string) => string, RegExp][] = [
    ['emptied', () => '', /rollout at .* is empty/],
    [
      'a malformed session_meta',
      (text) =>
        ['{"type":"session_meta","payload":{"id":42}}', ...text.split('\n').slice(1)].join('\n'),
      /does not start with session metadata/,
    ],
  ];
  for (const [label, damage, reason] of damages) {
    it(`${label}: read fails saying where and why, and the thread is no longer listed`, async () => {
      const { h, threadId, path } = await writtenThread();
      expect(await listedIds(h)).toContain(threadId);
      writeFileSync(path, damage(readFileSync(path, 'utf8')));
      for (const includeHistory of [false, true]) {
        const error = await h.store.readThread({ threadId, includeHistory }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ThreadStoreError);
        expect((error as ThreadStoreError).code).toBe('Internal');
        expect((error as ThreadStoreError).detail).toMatch(reason);
        expect(unreadableRolloutOf(error)).toEqual({
          path,
          reason: expect.stringMatching(reason) as unknown as string,
        });
      }
      expect(await listedIds(h)).not.toContain(threadId);
      // The row stays (name, DB-only facts): only its preview is cleared.
      expect((await getThread(h.stateDb!.ctx, threadId))?.preview).toBe('');
    });
  }

  it('hideUnreadableRollouts (the backfill pass) hides only rows of files that do not read', async () => {
    const { h, threadId, path } = await writtenThread();
    const readable = readFileSync(path, 'utf8');
    expect(await hideUnreadableRollouts(h.stateDb!, [path])).toBe(0);
    writeFileSync(path, '');
    expect(await hideUnreadableRollouts(h.stateDb!, [path])).toBe(1);
    expect(await listedIds(h)).not.toContain(threadId);
    // The file comes back: reading it lists it again once it is reconciled (a reindex).
    writeFileSync(path, readable);
    expect((await h.store.readThread({ threadId })).threadId).toBe(threadId);
  });
});
