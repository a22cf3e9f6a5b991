import { describe, expect, it } from 'vitest';
import {
  InMemoryThreadStore,
  LiveThread,
  LiveThreadInitGuard,
  ThreadStoreError,
} from '../src/index.js';
import {
  createThreadParams,
  droppedEventItem,
  expectThreadStoreError,
  resumeThreadParams,
  tokenCountItem,
  userMessageItem,
} from '../src/testing/index.js';
import type { UpdateThreadMetadataParams } from '../src/types.js';

const noGit = { collectGitInfo: async () => null };

/** An in-memory store whose metadata writes fail while `failures` > 0. */
class FlakyMetadataStore extends InMemoryThreadStore {
  failures = 0;
  override async updateThreadMetadata(params: UpdateThreadMetadataParams) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw ThreadStoreError.conflict('barrier failure');
    }
    return super.updateThreadMetadata(params);
  }
}

describe('LiveThread over InMemoryThreadStore', () => {
  it('appends history, then sends the derived metadata patch', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    await live.appendItems([userMessageItem('first message')]);
    expect(store.calls().appendItems).toBe(1);
    expect(store.calls().updateThreadMetadata).toBe(1);
    const patch = store.metadataUpdates.get(params.threadId);
    expect(patch?.preview).toBe('first message');
    expect(patch?.firstUserMessage).toBe('first message');
    expect(patch?.source).toBe('cli');
    const log = store.callLog().map((call) => call.method);
    expect(log).toEqual(['createThread', 'appendItems', 'updateThreadMetadata']);
    const update = store.callLog()[2]?.params as UpdateThreadMetadataParams;
    expect(update.includeArchived).toBe(true);
  });

  it('sends nothing for appends the policy drops entirely', async () => {
    const store = new InMemoryThreadStore();
    const live = await LiveThread.create(store, createThreadParams('/w'), noGit);
    await live.appendItems([droppedEventItem()]);
    await live.appendItems([]);
    expect(store.calls().appendItems).toBe(0);
    expect(store.calls().updateThreadMetadata).toBe(0);
  });

  it('shutting down an unappended thread sends no metadata', async () => {
    const store = new InMemoryThreadStore();
    const live = await LiveThread.create(store, createThreadParams('/w'), noGit);
    await live.flush();
    await live.shutdown();
    expect(store.calls().updateThreadMetadata).toBe(0);
    expect(store.calls().shutdownThread).toBe(1);
  });

  it('persist sends the create metadata even without history', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    await live.persist();
    expect(store.calls().updateThreadMetadata).toBe(1);
    expect(store.metadataUpdates.get(params.threadId)?.cwd).toBe('/w');
  });

  it('a memory-mode update before the first append writes the create patch first', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    await live.updateMemoryMode('disabled');
    expect(store.calls().updateThreadMetadata).toBe(2);
    expect(store.metadataUpdates.get(params.threadId)?.memoryMode).toBe('disabled');
    expect(store.metadataUpdates.get(params.threadId)?.modelProvider).toBe('test-provider');
  });

  it('resume loads history first and observes historical facts', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    await live.appendItems([userMessageItem('original')]);
    await live.shutdown();
    const resumed = await LiveThread.resume(
      store,
      resumeThreadParams(params.threadId, '/w', {
        metadata: { cwd: '/w', modelProvider: 'other-provider', memoryMode: 'enabled' },
      }),
    );
    await resumed.appendItems([userMessageItem('later')]);
    const patch = store.metadataUpdates.get(params.threadId);
    expect(patch?.firstUserMessage).toBe('original');
    expect(patch?.preview).toBe('original');
    expect(patch?.modelProvider).toBe('test-provider');
  });

  it('metadata errors propagate from append and are retried at the next barrier', async () => {
    const store = new FlakyMetadataStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    store.failures = 1;
    const error = await expectThreadStoreError(
      live.appendItems([userMessageItem('x')]),
      'Conflict',
    );
    expect(error.message).toBe('thread-store conflict: barrier failure');
    // History was accepted before metadata failed.
    expect(store.histories.get(params.threadId)?.length).toBe(2);
    await live.flush();
    expect(store.metadataUpdates.get(params.threadId)?.preview).toBe('x');
  });

  it('localRolloutPath is null for stores without paths', async () => {
    const live = await LiveThread.create(
      new InMemoryThreadStore(),
      createThreadParams('/w'),
      noGit,
    );
    expect(live.localRolloutPath()).toBeNull();
  });

  it('an init guard discards unless committed', async () => {
    const store = new InMemoryThreadStore();
    const guard = new LiveThreadInitGuard(
      await LiveThread.create(store, createThreadParams('/w'), noGit),
    );
    await guard.discard();
    await guard.discard();
    expect(store.calls().discardThread).toBe(1);
    const committed = new LiveThreadInitGuard(
      await LiveThread.create(store, createThreadParams('/w'), noGit),
    );
    expect(committed.commit()).toBeInstanceOf(LiveThread);
    await committed.discard();
    expect(store.calls().discardThread).toBe(1);
  });

  it('token counts flow into the patch', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, noGit);
    await live.appendItems([tokenCountItem(42)]);
    expect(store.metadataUpdates.get(params.threadId)?.tokenUsage?.totalTokens).toBe(42);
  });
});

describe('InMemoryThreadStore specifics', () => {
  it('registry returns one store per id until removed', () => {
    const a = InMemoryThreadStore.forId('registry-test');
    expect(InMemoryThreadStore.forId('registry-test')).toBe(a);
    expect(InMemoryThreadStore.removeId('registry-test')).toBe(a);
    expect(InMemoryThreadStore.forId('registry-test')).not.toBe(a);
    InMemoryThreadStore.removeId('registry-test');
  });

  it('reads by a rollout path registered on resume', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    await store.createThread(params);
    await store.resumeThread(
      resumeThreadParams(params.threadId, '/w', { rolloutPath: '/virtual/rollout.jsonl' }),
    );
    const thread = await store.readThreadByRolloutPath({ rolloutPath: '/virtual/rollout.jsonl' });
    expect(thread.threadId).toBe(params.threadId);
    expect(thread.rolloutPath).toBe('/virtual/rollout.jsonl');
    await expectThreadStoreError(
      store.readThreadByRolloutPath({ rolloutPath: '/virtual/other.jsonl' }),
      'InvalidRequest',
      'in-memory thread store does not know rollout path /virtual/other.jsonl',
    );
  });

  it('filters listings by spawn relationship', async () => {
    const store = new InMemoryThreadStore();
    const root = createThreadParams('/w');
    await store.createThread(root);
    const child = createThreadParams('/w', { parentThreadId: root.threadId });
    await store.createThread(child);
    const grandchild = createThreadParams('/w', {
      source: { subagent: { thread_spawn: { parent_thread_id: child.threadId, depth: 2 } } },
    });
    await store.createThread(grandchild);
    const direct = await store.listThreads({
      pageSize: 10,
      relationFilter: { kind: 'directChildrenOf', threadId: root.threadId },
    });
    expect(direct.items.map((t) => t.threadId)).toEqual([child.threadId]);
    const descendants = await store.listThreads({
      pageSize: 10,
      relationFilter: { kind: 'descendantsOf', threadId: root.threadId },
    });
    expect(descendants.items.map((t) => t.threadId).sort()).toEqual(
      [child.threadId, grandchild.threadId].sort(),
    );
    expect(descendants.nextCursor).toBeNull();
  });

  it('paginated threads allow metadata reads and reject history paths', async () => {
    const store = new InMemoryThreadStore();
    const params = createThreadParams('/w');
    await store.createThread(params);
    await store.updateThreadMetadata({
      threadId: params.threadId,
      patch: { historyMode: 'paginated' },
    });
    const thread = await store.readThread({ threadId: params.threadId });
    expect(thread.historyMode).toBe('paginated');
    for (const call of [
      store.readThread({ threadId: params.threadId, includeHistory: true }),
      store.loadHistory({ threadId: params.threadId }),
      store.resumeThread(resumeThreadParams(params.threadId, '/w')),
    ]) {
      const error = await expectThreadStoreError(call, 'Unsupported');
      expect(error.operation).toBe('paginated_threads');
    }
  });
});
