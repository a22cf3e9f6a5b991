/**
 * Content search on PostgreSQL finds exactly what the shared JS rule finds: history rows of
 * every line shape (written straight into `thread_store_items`, as imported data would be,
 * since the legacy write policy drops some shapes) are searched by SQL, and each result set
 * and snippet is checked against `recordSnippet` applied in JS to the same rows.
 */
import { type PostgresServer, startPostgres } from '@skein/test-support';
import {
  recordSnippet,
  type SearchableRecord,
  type ThreadId,
  userMessageItem,
} from '@skein/thread-store';
import { createThreadParams } from '@skein/thread-store/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresThreadStore } from '../src/index.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const event = (payload: Record<string, unknown>): SearchableRecord => ({
  type: 'event_msg',
  payload,
});
const completed = (item: Record<string, unknown>) => event({ type: 'item_completed', item });
const message = (role: string, content: unknown): SearchableRecord => ({
  type: 'response_item',
  payload: { type: 'message', role, content },
});
const long = `${'lead words '.repeat(12)}the Needle sits here${' tail words'.repeat(14)}`;

/** One history row per thread: every visible shape, near misses, and awkward characters. */
const ROWS: readonly SearchableRecord[] = [
  event({ type: 'user_message', message: 'alpha user words' }),
  event({ type: 'agent_message', message: 'alpha agent words' }),
  event({ type: 'user_message', message: 123 }),
  event({ type: 'error', message: 'hidden error alpha' }),
  completed({
    type: 'UserMessage',
    content: [{ type: 'text', text: 'one' }, { type: 'image' }, { type: 'text', text: 'two' }],
  }),
  completed({ type: 'AgentMessage', text: 'the text beta', content: [{ text: 'the parts' }] }),
  completed({
    type: 'AgentMessage',
    content: [{ type: 'Text', text: 'delta' }, 'bare', { text: 7 }],
  }),
  completed({ type: 'AgentMessage', text: 5, content: [{ text: 'zeta' }, { text: 'eta' }] }),
  completed({ type: 'Plan', text: 'hidden plan alpha' }),
  message('assistant', [{ type: 'output_text', text: '100% sure_thing ÉCOLE' }]),
  message('user', [{ type: 'input_text', text: 'epsilon' }]),
  message('developer', [{ type: 'input_text', text: 'hidden developer alpha' }]),
  message('assistant', 'hidden string content'),
  {
    type: 'response_item',
    payload: { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'hidden thought' }] },
  },
  event({ type: 'agent_message', message: long }),
];

const TERMS = [
  'alpha',
  'ALPHA USER',
  'hidden',
  'one\ntwo',
  'one two',
  'beta',
  'the parts',
  'delta',
  'delta\nbare',
  'bare',
  '7',
  '123',
  'zeta\neta',
  '%',
  '100%',
  '_',
  'sure%thing',
  're_thing',
  'école',
  'epsilon',
  'output_text',
  'message',
  'needle SITS',
  'seed',
];

describe('PostgresThreadStore content search', () => {
  it('matches and snips exactly as the shared rule does, for every line shape', async () => {
    const url = await server.createDatabase();
    const store = await PostgresThreadStore.open({ connectionString: url });
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    try {
      const histories = new Map<ThreadId, SearchableRecord[]>();
      for (const [index, row] of ROWS.entries()) {
        const seed = userMessageItem(`seed ${index}`);
        const params = createThreadParams('/work/project');
        await store.createThread(params);
        await store.appendItems({ threadId: params.threadId, items: [seed] });
        await store.persistThread(params.threadId);
        await store.updateThreadMetadata({
          threadId: params.threadId,
          patch: { preview: `seed ${index}`, firstUserMessage: `seed ${index}` },
        });
        await sql`
          WITH bump AS (
            UPDATE thread_store_threads SET item_count = item_count + 1
            WHERE thread_id = ${params.threadId} RETURNING item_count)
          INSERT INTO thread_store_items (thread_id, seq, item_json, created_at_ms)
          SELECT ${params.threadId}, item_count, ${JSON.stringify(row)}, ${Date.now()}
          FROM bump`.execute(db);
        histories.set(params.threadId, [seed, row]);
      }
      for (const term of TERMS) {
        const expected = new Map<string, string>();
        for (const [threadId, history] of histories) {
          for (const record of history) {
            const snippet = recordSnippet(record, term);
            if (snippet === null) continue;
            expected.set(threadId, snippet);
            break;
          }
        }
        const page = await store.searchThreads({ pageSize: 100, searchTerm: term });
        const found = new Map(page.items.map((hit) => [hit.thread.threadId, hit.snippet]));
        expect(found, JSON.stringify(term)).toEqual(expected);
      }
      // The rule itself, pinned on a few terms so the comparison above cannot pass vacuously.
      const count = async (searchTerm: string) =>
        (await store.searchThreads({ pageSize: 100, searchTerm })).items.length;
      expect(await count('alpha')).toBe(2);
      expect(await count('hidden')).toBe(0);
      expect(await count('one\ntwo')).toBe(1);
      expect(await count('one two')).toBe(0);
      expect(await count('école')).toBe(1);
      expect(await count('sure%thing')).toBe(0);
      expect(await count('seed')).toBe(ROWS.length);
      const needle = await store.searchThreads({ pageSize: 100, searchTerm: 'needle SITS' });
      // 48 characters before the match, 96 after, cut marks on both sides.
      expect(needle.items[0]?.snippet).toBe(
        '... lead words lead words lead words lead words the Needle sits here tail words tail ' +
          'words tail words tail words tail words tail words tail words tail words ta ...',
      );
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
