/**
 * Conformance: Listing and search: recorded threads in lists, pages and cursors in both directions, the one
 * cursor format, page-size and cursor errors, filters, content search (or its refusal).
 */
import { decodeThreadCursor, encodeThreadCursor } from '@skein/protocol';
import { expect, it } from 'vitest';
import type { StoredThread, ThreadId } from '../../types.js';
import { agentMessageItem } from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** Registers the listing and search tests. */
export function describeListingConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;

  it('lists recorded threads with their derived preview', async () => {
    const h = await setup();
    const first = await recordThread(h, 'listed one');
    const second = await recordThread(h, 'listed two');
    const page = await h.store.listThreads({ pageSize: 50 });
    const byId = new Map(page.items.map((thread) => [thread.threadId, thread]));
    expect(byId.get(first.threadId)?.preview).toBe('listed one');
    expect(byId.get(second.threadId)?.preview).toBe('listed two');
  });

  if (caps.listing) {
    it('pages threads with cursors in both directions without gaps or repeats', async () => {
      const h = await setup();
      const ids: ThreadId[] = [];
      for (let index = 0; index < 5; index += 1) {
        ids.push((await recordThread(h, `page ${index}`)).threadId);
      }
      for (const sortDirection of ['desc', 'asc'] as const) {
        for (const sortKey of ['createdAt', 'updatedAt'] as const) {
          const seen: StoredThread[] = [];
          let cursor: string | null = null;
          for (let pageIndex = 0; pageIndex < 10; pageIndex += 1) {
            const page = await h.store.listThreads({
              pageSize: 2,
              cursor,
              sortKey,
              sortDirection,
            });
            expect(page.items.length).toBeLessThanOrEqual(2);
            seen.push(...page.items);
            cursor = page.nextCursor;
            if (cursor === null) break;
          }
          const seenIds = seen.map((thread) => thread.threadId);
          expect(new Set(seenIds).size).toBe(seenIds.length);
          expect([...seenIds].sort()).toEqual([...ids].sort());
          const keys = seen.map((thread) =>
            sortKey === 'createdAt' ? thread.createdAtMs : thread.updatedAtMs,
          );
          const sorted = [...keys].sort((a, b) => (sortDirection === 'asc' ? a - b : b - a));
          expect(keys).toEqual(sorted);
        }
      }
    });

    it('refuses a page size below 1 with InvalidRequest, on lists and searches', async () => {
      const h = await setup();
      await recordThread(h, 'one thread');
      for (const pageSize of [0, -1]) {
        await expectThreadStoreError(
          h.store.listThreads({ pageSize }),
          'InvalidRequest',
          'page_size must be at least 1',
        );
        if (caps.search) {
          await expectThreadStoreError(
            h.store.searchThreads({ searchTerm: 'one', pageSize }),
            'InvalidRequest',
            'page_size must be at least 1',
          );
        }
      }
    });

    it('prints one cursor format: the last item as <RFC 3339 UTC>|<thread id>', async () => {
      const h = await setup();
      for (let index = 0; index < 3; index += 1) await recordThread(h, `cursor ${index}`);
      for (const sortKey of ['createdAt', 'updatedAt', 'recencyAt'] as const) {
        const page = await h.store.listThreads({ pageSize: 2, sortKey });
        const last = page.items.at(-1);
        const next = page.nextCursor === null ? null : decodeThreadCursor(page.nextCursor);
        expect(next?.threadId).toBe(last?.threadId);
        // Codex's text: RFC 3339 UTC, the fraction without trailing zeros.
        expect(page.nextCursor).toBe(next === null ? null : encodeThreadCursor(next));
        expect(page.nextCursor).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z\|/);
      }
    });

    it('rejects an invalid cursor', async () => {
      const h = await setup();
      await expectThreadStoreError(
        h.store.listThreads({ pageSize: 10, cursor: 'not a cursor' }),
        'InvalidRequest',
        'invalid cursor',
      );
    });

    it('filters by cwd, provider and search term', async () => {
      const h = await setup();
      const { threadId } = await recordThread(h, 'filter me');
      const other = await recordThread(h, 'other thread');
      await h.store.updateThreadMetadata({ threadId, patch: { name: 'needle title' } });
      expect((await h.store.listThreads({ pageSize: 10, cwdFilters: [] })).items).toEqual([]);
      const byCwd = await h.store.listThreads({ pageSize: 10, cwdFilters: [h.cwd] });
      expect(byCwd.items.map((thread) => thread.threadId)).toContain(threadId);
      const byOtherCwd = await h.store.listThreads({
        pageSize: 10,
        cwdFilters: [`${h.cwd}/does-not-exist`],
      });
      expect(byOtherCwd.items).toEqual([]);
      const byProvider = await h.store.listThreads({
        pageSize: 10,
        modelProviders: ['some-other-provider'],
      });
      expect(byProvider.items).toEqual([]);
      const allProviders = await h.store.listThreads({ pageSize: 10, modelProviders: [] });
      expect(allProviders.items.length).toBe(2);
      const searched = await h.store.listThreads({ pageSize: 10, searchTerm: 'needle' });
      expect(searched.items.map((thread) => thread.threadId)).toEqual([threadId]);
      expect(searched.items.map((thread) => thread.threadId)).not.toContain(other.threadId);
    });
  }

  if (caps.search) {
    it('searches visible content with snippets and pages the matches', async () => {
      const h = await setup();
      const matches: ThreadId[] = [];
      for (let index = 0; index < 3; index += 1) {
        const { threadId } = await recordThread(h, `question ${index}`, [
          agentMessageItem(`The Zebra caching layer answer number ${index}`),
        ]);
        matches.push(threadId);
      }
      await recordThread(h, 'nothing to see here');
      await expectThreadStoreError(
        h.store.searchThreads({ pageSize: 10, searchTerm: '' }),
        'InvalidRequest',
        'thread/search requires search_term',
      );
      const all = await h.store.searchThreads({ pageSize: 10, searchTerm: 'zebra CACHING' });
      expect(all.items.map((result) => result.thread.threadId).sort()).toEqual([...matches].sort());
      expect(all.items[0]?.snippet).toContain('Zebra caching');
      expect(all.nextCursor).toBeNull();
      const first = await h.store.searchThreads({ pageSize: 2, searchTerm: 'zebra' });
      expect(first.items.length).toBe(2);
      expect(first.nextCursor).not.toBeNull();
      const second = await h.store.searchThreads({
        pageSize: 2,
        searchTerm: 'zebra',
        cursor: first.nextCursor,
      });
      const seen = [...first.items, ...second.items].map((result) => result.thread.threadId);
      expect(seen.sort()).toEqual([...matches].sort());
      const none = await h.store.searchThreads({ pageSize: 10, searchTerm: 'no such words' });
      expect(none.items).toEqual([]);
    });
  } else {
    it('reports thread/search as unsupported', async () => {
      const h = await setup();
      const error = await expectThreadStoreError(
        h.store.searchThreads({ pageSize: 10, searchTerm: 'x' }),
        'Unsupported',
      );
      expect(error.operation).toBe('thread/search');
    });
  }
}
