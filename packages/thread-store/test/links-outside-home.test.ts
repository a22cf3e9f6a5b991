/**
 * A rollout that is a link — or lies under a linked day folder — leading out of the home is
 * never followed by LocalThreadStore: reads, resume, renames, archive and delete refuse it
 * (Conflict) and leave the files outside exactly as they were.
 */
import { cpSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { newThreadId } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveThread, ThreadStoreError } from '../src/index.js';
import { localHarness, noGit } from './local-harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A harness (cleaned up after the test) with one thread that has a user message. */
async function harnessWithThread() {
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
  await live.appendItems([
    {
      type: 'event_msg',
      payload: { type: 'user_message', message: 'hello', images: [], local_images: [] },
    },
  ]);
  await live.shutdown();
  return { h, threadId };
}

async function linkedThread(variant: 'file' | 'day folder') {
  const { h, threadId } = await harnessWithThread();
  const outside = makeTempDir('skein-outside-');
  cleanups.push(() => removeTempDir(outside));
  const path = (await h.store.readThread({ threadId })).rolloutPath!;
  let outsideFile: string;
  if (variant === 'file') {
    outsideFile = join(outside, basename(path));
    renameSync(path, outsideFile);
    symlinkSync(outsideFile, path);
  } else {
    const day = dirname(path);
    cpSync(day, join(outside, 'day'), { recursive: true });
    rmSync(day, { recursive: true });
    symlinkSync(join(outside, 'day'), day);
    outsideFile = join(outside, 'day', basename(path));
  }
  // A fresh store: nothing cached from before the link.
  const store = await h.reopen!();
  return { store, threadId, outsideFile, bytes: readFileSync(outsideFile) };
}

describe('rollouts leading out of the home (LocalThreadStore)', () => {
  for (const variant of ['file', 'day folder'] as const) {
    it(`a linked ${variant}: every operation is refused and the outside file is untouched`, async () => {
      const { store, threadId, outsideFile, bytes } = await linkedThread(variant);
      const operations: [string, () => Promise<unknown>][] = [
        ['readThread', () => store.readThread({ threadId })],
        ['readThread+history', () => store.readThread({ threadId, includeHistory: true })],
        ['loadHistory', () => store.loadHistory({ threadId })],
        [
          'resumeThread',
          () =>
            store.resumeThread({
              threadId,
              metadata: { cwd: '/tmp', modelProvider: 'test-provider', memoryMode: 'enabled' },
            }),
        ],
        [
          'rename',
          () => store.updateThreadMetadata({ threadId, patch: { name: 'through a link' } }),
        ],
        ['archive', () => store.archiveThread({ threadId })],
        ['delete', () => store.deleteThread({ threadId })],
      ];
      const outcomes: Record<string, string> = {};
      for (const [label, run] of operations) {
        outcomes[label] = await run().then(
          () => 'accepted',
          (error: unknown) =>
            error instanceof ThreadStoreError ? `${error.code}: ${error.detail}` : String(error),
        );
      }
      for (const [label, outcome] of Object.entries(outcomes)) {
        expect(outcome, label).toMatch(/^Conflict: .*outside the home/);
      }
      expect(readFileSync(outsideFile)).toEqual(bytes);
    });
  }

  // Rollouts kept on another disk: the home's `sessions` folder is a link there. Its threads are
  // the home's, in every listing and every operation, as Codex sees them.
  it('a linked sessions folder is part of the home: listed, read and renamed', async () => {
    const { h, threadId } = await harnessWithThread();
    const disk = makeTempDir('skein-disk-');
    cleanups.push(() => removeTempDir(disk));
    const sessions = join(h.home, 'sessions');
    cpSync(sessions, join(disk, 'sessions'), { recursive: true });
    rmSync(sessions, { recursive: true });
    symlinkSync(join(disk, 'sessions'), sessions);
    const store = await h.reopen!();
    for (const useStateDbOnly of [true, false]) {
      const page = await store.listThreads({
        pageSize: 10,
        sortKey: 'createdAt',
        sortDirection: 'desc',
        allowedSources: [],
        archived: false,
        useStateDbOnly,
      });
      expect(
        page.items.map((thread) => thread.threadId),
        `useStateDbOnly ${useStateDbOnly}`,
      ).toEqual([threadId]);
    }
    expect((await store.readThread({ threadId, includeHistory: true })).threadId).toBe(threadId);
    await store.updateThreadMetadata({ threadId, patch: { name: 'on another disk' } });
    expect((await store.readThread({ threadId })).name).toBe('on another disk');
  });
});
