/**
 * Conformance: Thread metadata: derived preview and first user message, the name and its size bound, the
 * memory mode, git patches (or their refusal).
 */
import { expect, it } from 'vitest';
import { MAX_THREAD_NAME_BYTES } from '../../patch.js';
import { userMessageItem } from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the metadata tests. */
export function describeMetadataConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;

  it('derives preview and first user message through LiveThread metadata sync', async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'hello conformance');
    await h.store.appendItems({ threadId, items: [userMessageItem('a later message')] });
    await h.store.flushThread(threadId);
    const thread = await h.store.readThread({ threadId });
    expect(thread.threadId).toBe(threadId);
    expect(thread.preview).toBe('hello conformance');
    expect(thread.firstUserMessage).toBe('hello conformance');
    expect(thread.name).toBeNull();
    expect(thread.history).toBeNull();
    expect(thread.archivedAtMs).toBeNull();
    expect(thread.modelProvider).toBe('test-provider');
    if (caps.rolloutPaths) expect(thread.rolloutPath).toMatch(/\.jsonl$/);
  });

  it('refuses a name past the size bound and keeps the stored one', async () => {
    const h = await setup();
    const { threadId, live } = await recordThread(h, 'bounded name');
    await live.shutdown();
    await h.store.updateThreadMetadata({ threadId, patch: { name: 'Kept' } });
    const tooLong = 'é'.repeat(MAX_THREAD_NAME_BYTES / 2 + 1);
    await expectThreadStoreError(
      h.store.updateThreadMetadata({ threadId, patch: { name: tooLong } }),
      'InvalidRequest',
    );
    expect((await h.store.readThread({ threadId })).name).toBe('Kept');
    const longest = 'n'.repeat(MAX_THREAD_NAME_BYTES);
    await h.store.updateThreadMetadata({ threadId, patch: { name: longest } });
    expect((await h.store.readThread({ threadId })).name).toBe(longest);
  });

  it('sets and clears the name with a literal patch', async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'name me');
    const named = await h.store.updateThreadMetadata({
      threadId,
      patch: { name: 'Conformance name' },
    });
    expect(named.name).toBe('Conformance name');
    expect((await h.store.readThread({ threadId })).name).toBe('Conformance name');
    const untouched = await h.store.updateThreadMetadata({ threadId, patch: {} });
    expect(untouched.name).toBe('Conformance name');
    const cleared = await h.store.updateThreadMetadata({ threadId, patch: { name: null } });
    expect(cleared.name).toBeNull();
    expect((await h.store.readThread({ threadId })).name).toBeNull();
  });

  it('updates the memory mode', async () => {
    const h = await setup();
    const { threadId, live } = await recordThread(h, 'memory');
    const thread = await live.updateMemoryMode('disabled');
    expect(thread.threadId).toBe(threadId);
    const history = await h.store.loadHistory({ threadId });
    expect(history.items.length).toBeGreaterThan(0);
  });

  if (caps.gitMetadata) {
    it('applies explicit git patches field by field', async () => {
      const h = await setup();
      const { threadId } = await recordThread(h, 'git');
      const full = await h.store.updateThreadMetadata({
        threadId,
        patch: {
          gitInfo: { sha: 'abc123', branch: 'main', originUrl: 'https://example.com/r.git' },
        },
      });
      expect(full.gitInfo).toEqual({
        commitHash: 'abc123',
        branch: 'main',
        repositoryUrl: 'https://example.com/r.git',
      });
      const partial = await h.store.updateThreadMetadata({
        threadId,
        patch: { gitInfo: { branch: 'feature' } },
      });
      expect(partial.gitInfo).toEqual({
        commitHash: 'abc123',
        branch: 'feature',
        repositoryUrl: 'https://example.com/r.git',
      });
      const cleared = await h.store.updateThreadMetadata({
        threadId,
        patch: { gitInfo: { sha: null, branch: null, originUrl: null } },
      });
      expect(cleared.gitInfo).toBeNull();
      expect((await h.store.readThread({ threadId })).gitInfo).toBeNull();
    });
  } else {
    it('rejects explicit git patches it cannot store', async () => {
      const h = await setup();
      const { threadId } = await recordThread(h, 'git');
      await expectThreadStoreError(
        h.store.updateThreadMetadata({ threadId, patch: { gitInfo: { branch: 'x' } } }),
        ['Internal', 'Unsupported'],
      );
    });
  }
}
