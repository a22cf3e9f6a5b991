/**
 * The ThreadStore conformance suite: one set of behaviours every store must show, registered
 * as vitest tests. Stores differ in what they can do (paths, archive, listing, git, turns), so
 * the caller declares capabilities; a capability a store lacks must reject with the documented
 * error, never answer with an empty result.
 */
import { decodeThreadCursor, encodeThreadCursor, newThreadId } from '@skein/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadStoreError, type ThreadStoreErrorCode } from '../errors.js';
import { LiveThread } from '../live-thread.js';
import { MAX_THREAD_NAME_BYTES } from '../patch.js';
import type { ThreadStore } from '../thread-store.js';
import type { RolloutItem, StoredThread, ThreadId } from '../types.js';
import {
  agentMessageItem,
  createThreadParams,
  droppedEventItem,
  paginatedTurnItems,
  resumeThreadParams,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from './items.js';

/**
 * What a store under test supports; the suite skips what it lacks (and checks that it is refused
 * as `Unsupported`).
 */
export interface ThreadStoreCapabilities {
  /** Threads have local rollout paths; `readThreadByRolloutPath` works. */
  rolloutPaths: boolean;
  /** Live writers are tracked: duplicates are refused, appends after shutdown fail. */
  liveWriters: boolean;
  /** `createThread` refuses a thread without a cwd. */
  requiresCwd: boolean;
  /** Archive hides a thread from active reads and lists; unarchive restores it. */
  archive: boolean;
  /** `listThreads` honours sort, direction, page size, cursors and filters. */
  listing: boolean;
  /** Explicit git patches are stored (partial updates, clears). */
  gitMetadata: boolean;
  /** `listTurns` is implemented. */
  turns: boolean;
  /** `searchThreads` is implemented. */
  search: boolean;
  /**
   * Codex 0.169's paginated history is written (a local store in a home with a 0.169 DB);
   * without it, creating a paginated thread fails `Unsupported(paginated_threads)`.
   */
  paginatedHistory?: boolean;
  /** `listItems` is implemented (optional; default false). */
  items?: boolean;
}

/**
 * A fresh store for one test: the store, a cwd for its threads, how to reopen it over the same
 * backing, and cleanup.
 */
export interface ThreadStoreHarness {
  store: ThreadStore;
  /** A directory threads may use as their cwd. */
  cwd: string;
  /** A second store over the same durable backing (a restart), if the store is durable. */
  reopen?: () => Promise<ThreadStore> | ThreadStore;
  cleanup?: () => Promise<void> | void;
}

/**
 * `describeThreadStoreConformance`'s options: a label, a harness factory, and the store's
 * capabilities.
 */
export interface ThreadStoreConformanceOptions {
  /** Label of the `describe` block. */
  name: string;
  /** A fresh, empty store per test. */
  createHarness: () => Promise<ThreadStoreHarness> | ThreadStoreHarness;
  capabilities: ThreadStoreCapabilities;
}

/**
 * Awaits `promise` and asserts it rejects with a `ThreadStoreError` of one of `codes` (and a
 * message including `messageIncludes`); returns the error.
 */
export async function expectThreadStoreError(
  promise: Promise<unknown>,
  codes: ThreadStoreErrorCode | readonly ThreadStoreErrorCode[],
  messageIncludes?: string,
): Promise<ThreadStoreError> {
  const accepted = typeof codes === 'string' ? [codes] : codes;
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected the call to reject').toBeInstanceOf(ThreadStoreError);
  const error = caught as ThreadStoreError;
  expect(accepted).toContain(error.code);
  if (messageIncludes !== undefined) expect(error.message).toContain(messageIncludes);
  return error;
}

/** Registers the conformance tests for one store implementation. */
export function describeThreadStoreConformance(options: ThreadStoreConformanceOptions): void {
  const caps = options.capabilities;

  describe(`ThreadStore conformance: ${options.name}`, () => {
    let harness: ThreadStoreHarness | undefined;

    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.cleanup?.();
    });

    async function setup(): Promise<ThreadStoreHarness> {
      harness = await options.createHarness();
      return harness;
    }

    /** A live thread with one user turn, persisted and flushed. */
    async function recordThread(
      h: ThreadStoreHarness,
      message: string,
      extra: readonly RolloutItem[] = [],
    ): Promise<{ threadId: ThreadId; live: LiveThread }> {
      const params = createThreadParams(h.cwd);
      const live = await LiveThread.create(h.store, params, { collectGitInfo: async () => null });
      await live.appendItems([userMessageItem(message), ...extra]);
      await live.persist();
      await live.flush();
      return { threadId: params.threadId, live };
    }

    /** A persisted thread of one turn per id: started, a user message, complete. */
    async function threadWithTurns(h: ThreadStoreHarness, turnIds: readonly string[]) {
      const params = createThreadParams(h.cwd);
      await h.store.createThread(params);
      for (const turn of turnIds) {
        await h.store.appendItems({
          threadId: params.threadId,
          items: [turnStartedItem(turn), userMessageItem(`ask ${turn}`), turnCompleteItem(turn)],
        });
      }
      await h.store.persistThread(params.threadId);
      return params.threadId;
    }

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
      expect((await h.store.readThread({ threadId: params.threadId })).createdAtMs).toBe(
        createdAtMs,
      );
      await live.shutdown();
      expect((await h.store.readThread({ threadId: params.threadId })).createdAtMs).toBe(
        createdAtMs,
      );
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

    if (caps.paginatedHistory === true) {
      it('writes paginated history: contiguous ordinals, turns read back, resume continues', async () => {
        const h = await setup();
        const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
        const live = await LiveThread.create(h.store, params);
        await live.appendItems(paginatedTurnItems(newThreadId(), 'first paginated', 'reply one'));
        await live.shutdown();
        const resumed = await LiveThread.resume(
          h.store,
          resumeThreadParams(params.threadId, h.cwd),
        );
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

    it('lists recorded threads with their derived preview', async () => {
      const h = await setup();
      const first = await recordThread(h, 'listed one');
      const second = await recordThread(h, 'listed two');
      const page = await h.store.listThreads({ pageSize: 50 });
      const byId = new Map(page.items.map((thread) => [thread.threadId, thread]));
      expect(byId.get(first.threadId)?.preview).toBe('listed one');
      expect(byId.get(second.threadId)?.preview).toBe('listed two');
    });

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

    if (caps.turns) {
      it('lists turns with cursors in both directions', async () => {
        const h = await setup();
        const params = createThreadParams(h.cwd);
        await h.store.createThread(params);
        const threadId = params.threadId;
        for (const turn of ['t1', 't2', 't3']) {
          await h.store.appendItems({
            threadId,
            items: [
              turnStartedItem(turn),
              userMessageItem(`ask ${turn}`),
              agentMessageItem(`answer ${turn}`),
              turnCompleteItem(turn, `answer ${turn}`),
            ],
          });
        }
        await h.store.persistThread(threadId);
        const all = await h.store.listTurns({ threadId, pageSize: 10, itemsView: 'full' });
        expect(all.turns.map((turn) => turn.turnId)).toEqual(['t1', 't2', 't3']);
        expect(all.turns.every((turn) => turn.status === 'completed')).toBe(true);
        expect(all.turns[0]?.items.length).toBe(4);
        const first = await h.store.listTurns({ threadId, pageSize: 2 });
        expect(first.turns.map((turn) => turn.turnId)).toEqual(['t1', 't2']);
        expect(first.nextCursor).not.toBeNull();
        const second = await h.store.listTurns({ threadId, pageSize: 2, cursor: first.nextCursor });
        expect(second.turns.map((turn) => turn.turnId)).toEqual(['t3']);
        expect(second.nextCursor).toBeNull();
        expect(second.backwardsCursor).not.toBeNull();
        const back = await h.store.listTurns({
          threadId,
          pageSize: 2,
          cursor: second.backwardsCursor,
          sortDirection: 'desc',
        });
        expect(back.turns.map((turn) => turn.turnId)).toEqual(['t2', 't1']);
        const newestFirst = await h.store.listTurns({
          threadId,
          pageSize: 10,
          sortDirection: 'desc',
        });
        expect(newestFirst.turns.map((turn) => turn.turnId)).toEqual(['t3', 't2', 't1']);
        const bare = await h.store.listTurns({ threadId, pageSize: 10, itemsView: 'notLoaded' });
        expect(bare.turns.every((turn) => turn.items.length === 0)).toBe(true);
      });
    } else {
      it('reports list_turns as unsupported', async () => {
        const h = await setup();
        const error = await expectThreadStoreError(
          h.store.listTurns({ threadId: newThreadId(), pageSize: 10 }),
          'Unsupported',
        );
        expect(error.operation).toBe('list_turns');
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
        expect(all.items.map((result) => result.thread.threadId).sort()).toEqual(
          [...matches].sort(),
        );
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

    if (caps.items === true) {
      it('lists items of a thread or a turn with cursors in both directions', async () => {
        const h = await setup();
        const threadId = await threadWithTurns(h, ['t1', 't2']);
        const all = await h.store.listItems({ threadId, pageSize: 100 });
        expect(all.items.length).toBe(7);
        expect(all.items.map((item) => item.itemOrdinal)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        const second = await h.store.listItems({ threadId, turnId: 't2', pageSize: 100 });
        expect(second.items.map((item) => item.turnId)).toEqual(['t2', 't2', 't2']);
        const page1 = await h.store.listItems({ threadId, pageSize: 4 });
        const page2 = await h.store.listItems({ threadId, pageSize: 4, cursor: page1.nextCursor });
        expect(page2.items.map((item) => item.itemOrdinal)).toEqual([4, 5, 6]);
        expect(page2.nextCursor).toBeNull();
        const back = await h.store.listItems({
          threadId,
          pageSize: 2,
          cursor: page2.backwardsCursor,
          sortDirection: 'desc',
        });
        expect(back.items.map((item) => item.itemOrdinal)).toEqual([3, 2]);
        expect(JSON.parse(all.items[2]?.materializedThreadItemJson ?? '{}')).toMatchObject({
          type: 'event_msg',
          payload: { type: 'user_message', message: 'ask t1' },
        });
      });

      it('rejects turn and item cursors that are malformed or of the other kind', async () => {
        const h = await setup();
        const threadId = await threadWithTurns(h, ['t1', 't2']);
        const turnCursor = (await h.store.listTurns({ threadId, pageSize: 1 })).nextCursor;
        const itemCursor = (await h.store.listItems({ threadId, pageSize: 1 })).nextCursor;
        expect(turnCursor).not.toBeNull();
        expect(itemCursor).not.toBeNull();
        const emptyJson = Buffer.from('{}').toString('base64url');
        for (const cursor of ['not a cursor', emptyJson, itemCursor]) {
          await expectThreadStoreError(
            h.store.listTurns({ threadId, pageSize: 5, cursor }),
            'InvalidRequest',
            'invalid cursor',
          );
        }
        for (const cursor of ['not a cursor', emptyJson, turnCursor]) {
          await expectThreadStoreError(
            h.store.listItems({ threadId, pageSize: 5, cursor }),
            'InvalidRequest',
            'invalid cursor',
          );
        }
      });
    }

    it('reports list_items as unsupported or answers it', async () => {
      const h = await setup();
      const { threadId } = await recordThread(h, 'items');
      try {
        const page = await h.store.listItems({ threadId, pageSize: 10 });
        expect(page.items.length).toBeGreaterThan(0);
      } catch (error) {
        expect(error).toBeInstanceOf(ThreadStoreError);
        expect((error as ThreadStoreError).operation).toBe('list_items');
      }
    });
  });
}
