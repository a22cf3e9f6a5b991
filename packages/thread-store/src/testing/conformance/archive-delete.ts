/**
 * Conformance: Deleting, archiving and unarchiving threads.
 */
import { newThreadId } from '@skein/protocol';
import { expect, it } from 'vitest';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the archive and delete tests. */
export function describeArchiveDeleteConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;

  it('deletes a thread and reports unknown ids as not found', async () => {
    const h = await setup();
    const { threadId, live } = await recordThread(h, 'delete me');
    await live.shutdown();
    await h.store.deleteThread({ threadId });
    await expectThreadStoreError(h.store.readThread({ threadId, includeArchived: true }), [
      'ThreadNotFound',
      'InvalidRequest',
    ]);
    const listed = await h.store.listThreads({ pageSize: 50 });
    expect(listed.items.map((thread) => thread.threadId)).not.toContain(threadId);
    const unknown = newThreadId();
    const error = await expectThreadStoreError(
      h.store.deleteThread({ threadId: unknown }),
      'ThreadNotFound',
    );
    expect(error.message).toBe(`thread ${unknown} not found`);
  });

  if (caps.archive) {
    it('archives and unarchives a thread', async () => {
      const h = await setup();
      const { threadId, live } = await recordThread(h, 'archive me');
      await live.shutdown();
      await h.store.archiveThread({ threadId });
      await expectThreadStoreError(h.store.readThread({ threadId }), [
        'InvalidRequest',
        'ThreadNotFound',
      ]);
      const archived = await h.store.readThread({ threadId, includeArchived: true });
      expect(archived.archivedAtMs).not.toBeNull();
      const active = await h.store.listThreads({ pageSize: 50 });
      expect(active.items.map((thread) => thread.threadId)).not.toContain(threadId);
      const archivedList = await h.store.listThreads({ pageSize: 50, archived: true });
      expect(archivedList.items.map((thread) => thread.threadId)).toContain(threadId);
      const restored = await h.store.unarchiveThread({ threadId });
      expect(restored.archivedAtMs).toBeNull();
      expect(restored.preview).toBe('archive me');
      const again = await h.store.readThread({ threadId });
      expect(again.archivedAtMs).toBeNull();
      const activeAgain = await h.store.listThreads({ pageSize: 50 });
      expect(activeAgain.items.map((thread) => thread.threadId)).toContain(threadId);
    });
  }
}
