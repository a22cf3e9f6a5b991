/**
 * Conformance: the one content-search rule (search-text.ts) on every store that searches: which
 * lines are visible conversation, the refusal of a blank term, and a snippet's exact text, so
 * a store that rewrites the rule (in SQL, over a wire) answers as the local store does.
 */
import { newThreadId } from '@skein/protocol';
import { expect, it } from 'vitest';
import { LiveThread } from '../../live-thread.js';
import { messageCompletedItem } from '../../messages.js';
import {
  agentMessageItem,
  assistantResponseItem,
  createThreadParams,
  turnCompleteItem,
  turnStartedItem,
} from '../items.js';
import { type ConformanceSuite, expectThreadStoreError } from './harness.js';

/** A long answer with its match in the middle, runs of whitespace, a line break and a tab. */
const LONG_ANSWER =
  'The build started at nine and the first stage  compiled every package\nwithout a single ' +
  'warning; then the Marmoset cache was consulted for each artifact, most hits came from the ' +
  'shared layer,\n\ta few from the local disk, and the rest were rebuilt from source before ' +
  'the final link step ran.';

/** Registers the content-search tests (stores that search only). */
export function describeSearchConformance(suite: ConformanceSuite): void {
  const { caps, setup, recordThread } = suite;
  if (!caps.search) return;

  it("finds a match that is only in a response_item assistant message's text parts", async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'which animal?', [
      assistantResponseItem('A pangolin, mostly.'),
    ]);
    await recordThread(h, 'another question', [agentMessageItem('no animals here')]);
    const page = await h.store.searchThreads({ pageSize: 10, searchTerm: 'PANGOLIN' });
    expect(page.items.map((hit) => [hit.thread.threadId, hit.snippet])).toEqual([
      [threadId, 'A pangolin, mostly.'],
    ]);
  });

  if (caps.paginatedHistory === true) {
    it('finds a match that is only in an item_completed AgentMessage', async () => {
      const h = await setup();
      const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
      const live = await LiveThread.create(h.store, params, { collectGitInfo: async () => null });
      const turnId = newThreadId();
      const at = { threadId: params.threadId, turnId };
      await live.appendItems([
        turnStartedItem(turnId, undefined, 'paginated'),
        messageCompletedItem('user', 'which bird?', at),
        messageCompletedItem('assistant', 'A kakapo,\nnocturnal.', at),
        turnCompleteItem(turnId, null, undefined, { historyMode: 'paginated' }),
      ]);
      await live.shutdown();
      const page = await h.store.searchThreads({ pageSize: 10, searchTerm: 'kakapo' });
      expect(page.items.map((hit) => [hit.thread.threadId, hit.snippet])).toEqual([
        [params.threadId, 'A kakapo, nocturnal.'],
      ]);
    });
  }

  it('refuses a whitespace-only term with InvalidRequest', async () => {
    const h = await setup();
    await recordThread(h, 'a thread with spaces in it');
    for (const searchTerm of [' ', '\n\t ']) {
      await expectThreadStoreError(
        h.store.searchThreads({ pageSize: 10, searchTerm }),
        'InvalidRequest',
        'thread/search requires search_term',
      );
    }
  });

  it('snips 48 characters before and 96 after a match, whitespace collapsed', async () => {
    const h = await setup();
    const { threadId } = await recordThread(h, 'how did the build go?', [
      agentMessageItem(LONG_ANSWER),
    ]);
    const page = await h.store.searchThreads({ pageSize: 10, searchTerm: 'marmoset CACHE' });
    expect(page.items.map((hit) => hit.thread.threadId)).toEqual([threadId]);
    expect(page.items[0]?.snippet).toBe(
      '... very package without a single warning; then the Marmoset cache was consulted for ' +
        'each artifact, most hits came from the shared layer, a few from the local dis ...',
    );
  });
}
