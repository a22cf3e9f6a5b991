import { makeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteThread,
  type ListThreadsParams,
  listThreads,
  patchThreadMetadata,
  type StateContext,
  StateRuntime,
  upsertThread,
} from '../src/index.js';
import { MAX_SEARCH_CANDIDATES } from '../src/sqlite-search.js';
import { sampleThread } from './helpers.js';

/*
 * The trigram index only narrows a search; every answer must be the scan's. Each check runs the
 * same listing with the index and without it (a context with no `search`) and compares.
 */

let runtime: StateRuntime;
beforeEach(async () => {
  runtime = await StateRuntime.open({ sqliteHome: makeTempDir() });
});
afterEach(async () => {
  await runtime.close();
});

const words = [
  'Alpha',
  'beta',
  'Gamma',
  'dëlta',
  '日本語テキスト',
  'quote"d',
  'per%cent',
  'under_score',
];

function scanCtx(): StateContext {
  const { search: _omitted, ...rest } = runtime.ctx;
  return rest;
}

function searchState() {
  return runtime.sqlite.prepare('select ready from thread_search_state where id = 1').get() as {
    ready: number;
  };
}

/** Every page, forwards, for a term; ids in order. */
async function allIds(ctx: StateContext, params: ListThreadsParams): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 100; guard += 1) {
    const page = await listThreads(ctx, { ...params, ...(cursor ? { cursor } : {}) });
    out.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
    if (cursor === null) return out;
  }
  throw new Error('too many pages');
}

async function expectSameAsScan(terms: readonly string[], extra: Partial<ListThreadsParams> = {}) {
  for (const term of terms) {
    for (const sortKey of ['created_at', 'updated_at'] as const) {
      for (const sortDirection of ['desc', 'asc'] as const) {
        const params: ListThreadsParams = {
          pageSize: 7,
          sortKey,
          sortDirection,
          searchTerm: term,
          ...extra,
        };
        const indexed = await allIds(runtime.ctx, params);
        const scanned = await allIds(scanCtx(), params);
        expect(indexed, `${JSON.stringify(term)} by ${sortKey} ${sortDirection}`).toEqual(scanned);
      }
    }
  }
}

async function seed(count: number) {
  const threads = [];
  for (let i = 0; i < count; i += 1) {
    const word = words[i % words.length] as string;
    const thread = sampleThread({
      // Every fourth thread shares its creation time with others: ties are ordered by id.
      ...(i % 4 === 0 ? { createdAtMs: Date.UTC(2025, 5, 1) } : {}),
      title: i % 3 === 0 ? `fix ${word} parser` : `title ${i}`,
      preview: `please look at ${word} number ${i}`,
      ...(i % 5 === 0 ? { name: `Named ${word}` } : {}),
    });
    await upsertThread(runtime.ctx, thread);
    threads.push(thread);
  }
  return threads;
}

const TERMS = [
  'Alpha',
  'alpha', // case-sensitive: no match for the lower-case form of 'Alpha'
  'dëlta',
  '本語テ',
  'quote"d',
  'per%cent',
  'under_',
  'Named Gamma',
  'number 1',
  'number 17',
  'fix beta parser',
  'no such text anywhere',
  'ab', // shorter than a trigram: the scan answers
  'a',
];

describe('thread search index', () => {
  it('starts unready, is built by the first search, and answers exactly as the scan', async () => {
    await seed(60);
    expect(searchState().ready).toBe(0);
    await expectSameAsScan(TERMS);
    expect(searchState().ready).toBe(1);
    await expectSameAsScan(TERMS, { archived: false, cwds: ['/home/dev/project'] });
  });

  it('follows inserts, renames, preview and title changes and deletes once built', async () => {
    const threads = await seed(30);
    await expectSameAsScan(['Alpha']);
    const fresh = sampleThread({ preview: 'brand new Zebra', title: 'zz' });
    await upsertThread(runtime.ctx, fresh);
    const renamed = threads[1]!;
    await patchThreadMetadata(runtime.ctx, renamed.id, { name: 'Zebra crossing' });
    const retitled = threads[2]!;
    await upsertThread(runtime.ctx, { ...retitled, title: 'a Zebra title' });
    await deleteThread(runtime.ctx, threads[5]!.id);
    await patchThreadMetadata(runtime.ctx, threads[0]!.id, { name: null }); // was 'Named Alpha'
    const zebra = await allIds(runtime.ctx, { pageSize: 50, searchTerm: 'Zebra' });
    expect(new Set(zebra)).toEqual(new Set([fresh.id, renamed.id, retitled.id]));
    await expectSameAsScan(['Zebra', 'Named Alpha', 'Alpha', 'number 5']);
  });

  it('a write from another connection (a process without this code path) keeps it current', async () => {
    await seed(12);
    await expectSameAsScan(['Gamma']);
    const other = new Database(runtime.path);
    try {
      other.prepare("update threads set preview = 'outside Kiwi edit' where rowid = 3").run();
      other.prepare('delete from threads where rowid = 4').run();
    } finally {
      other.close();
    }
    expect(await allIds(runtime.ctx, { pageSize: 50, searchTerm: 'Kiwi' })).toHaveLength(1);
    await expectSameAsScan(['Kiwi', 'Gamma', 'number']);
  });

  it('survives VACUUM renumbering the threads rowids', async () => {
    const threads = await seed(40);
    await expectSameAsScan(['beta']);
    for (const thread of threads.slice(0, 20)) await deleteThread(runtime.ctx, thread.id);
    runtime.sqlite.exec('vacuum');
    for (const thread of threads.slice(20, 30)) {
      await patchThreadMetadata(runtime.ctx, thread.id, { name: `after vacuum ${thread.id}` });
    }
    await deleteThread(runtime.ctx, threads[35]!.id);
    await expectSameAsScan(['after vacuum', 'beta', 'Alpha', 'number 3']);
  });

  it('a common term falls back to the ordered scan and still pages exactly', async () => {
    // More candidates than the index hands out: every preview contains 'please'.
    const count = MAX_SEARCH_CANDIDATES + 20;
    for (let i = 0; i < count; i += 1) {
      await upsertThread(runtime.ctx, sampleThread({ preview: `please ${i}` }));
    }
    const page = await listThreads(runtime.ctx, { pageSize: 5, searchTerm: 'please' });
    expect(page.items).toHaveLength(5);
    expect(runtime.ctx.search?.candidateIds('please')).toBeNull();
    expect(runtime.ctx.search?.candidateIds(`please ${count - 1}`)).toHaveLength(1);
    await expectSameAsScan(['please 10', `please ${count - 1}`]);
  });
});
