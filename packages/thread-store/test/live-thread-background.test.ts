import { describe, expect, it } from 'vitest';
import { InMemoryThreadStore, LiveThread, ThreadStoreError } from '../src/index.js';
import {
  createThreadParams,
  expectThreadStoreError,
  userMessageItem,
} from '../src/testing/index.js';
import type { UpdateThreadMetadataParams } from '../src/types.js';

const options = { collectGitInfo: async () => null, metadataUpdates: 'background' as const };

/** An in-memory store whose metadata writes can be held at a gate and made to fail. */
class GatedStore extends InMemoryThreadStore {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  failures = 0;
  started = 0;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  override async updateThreadMetadata(params: UpdateThreadMetadataParams) {
    this.started += 1;
    if (this.gate !== null) await this.gate;
    if (this.failures > 0) {
      this.failures -= 1;
      throw ThreadStoreError.conflict('barrier failure');
    }
    return super.updateThreadMetadata(params);
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('LiveThread with background metadata updates', () => {
  it('append returns once history is accepted while metadata is blocked', async () => {
    const store = new GatedStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, options);
    store.hold();
    await live.appendItems([userMessageItem('first message')]);
    expect(store.calls().appendItems).toBe(1);
    expect(store.calls().updateThreadMetadata).toBe(0);
    store.release();
    await live.flush();
    expect(store.calls().updateThreadMetadata).toBe(1);
    expect(store.metadataUpdates.get(params.threadId)?.preview).toBe('first message');
  });

  it('appends during an in-flight update coalesce into one follow-up attempt', async () => {
    const store = new GatedStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, options);
    store.hold();
    await live.appendItems([userMessageItem('one')]);
    await live.appendItems([userMessageItem('two')]);
    await live.appendItems([userMessageItem('three')]);
    await tick();
    expect(store.started).toBe(1);
    store.release();
    await live.flush();
    expect(store.calls().updateThreadMetadata).toBe(2);
    await live.appendItems([userMessageItem('four')]);
    await live.flush();
    expect(store.calls().appendItems).toBe(4);
    expect(store.calls().updateThreadMetadata).toBe(3);
  });

  it('a failure superseded by newer facts is retried with the merged patch', async () => {
    const store = new GatedStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, options);
    store.hold();
    store.failures = 1;
    await live.appendItems([userMessageItem('first')]);
    await live.appendItems([userMessageItem('second')]);
    store.release();
    await live.flush();
    expect(store.calls().updateThreadMetadata).toBe(1);
    expect(store.metadataUpdates.get(params.threadId)?.preview).toBe('first');
  });

  it('a background failure is retried at the next barrier, which reports a second failure', async () => {
    const store = new GatedStore();
    const params = createThreadParams('/w');
    const live = await LiveThread.create(store, params, options);
    store.failures = 2;
    await live.appendItems([userMessageItem('x')]);
    await tick();
    const error = await expectThreadStoreError(live.flush(), 'Conflict');
    expect(error.message).toBe('thread-store conflict: barrier failure');
    await live.appendItems([userMessageItem('appends still work')]);
    await live.flush();
    expect(store.metadataUpdates.get(params.threadId)?.preview).toBe('x');
  });

  it('shutdown and discard wait for the in-flight update before closing the store', async () => {
    const store = new GatedStore();
    const live = await LiveThread.create(store, createThreadParams('/w'), options);
    store.hold();
    await live.appendItems([userMessageItem('pending')]);
    const shutdown = live.shutdown();
    await tick();
    expect(store.calls().shutdownThread).toBe(0);
    store.release();
    await shutdown;
    expect(store.calls().shutdownThread).toBe(1);
    expect(store.calls().updateThreadMetadata).toBe(1);

    const other = await LiveThread.create(store, createThreadParams('/w'), options);
    store.hold();
    await other.appendItems([userMessageItem('pending too')]);
    const discard = other.discard();
    await tick();
    expect(store.calls().discardThread).toBe(0);
    store.release();
    await discard;
    expect(store.calls().discardThread).toBe(1);
  });
});
