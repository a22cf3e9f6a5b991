/**
 * A page after a cursor must seek to the cursor in the sort column's index, not walk the index
 * from its start (a page's cost would then grow with its depth). Checked on the SQL each
 * listing actually runs (captured as the connection prepares it), with SQLite's own plan, on
 * both Codex schemas, for every sort column and both directions; and the pages themselves must
 * walk every thread once, in order.
 */
import { makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { listThreads, type StateRuntime, upsertThread } from '../src/index.js';
import { closeOpened, openRuntime, sampleThread } from './helpers.js';

afterEach(closeOpened);

/** The SQL texts `runtime`'s connection prepares while `run` runs. */
async function preparedDuring(
  runtime: StateRuntime,
  run: () => Promise<unknown>,
): Promise<string[]> {
  const texts: string[] = [];
  const sqlite = runtime.sqlite;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    texts.push(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  try {
    await run();
  } finally {
    sqlite.prepare = prepare;
  }
  return texts;
}

/** SQLite's plan for `text` (its parameters bound to null), one step a line. */
function planOf(runtime: StateRuntime, text: string): string {
  return runtime.sqlite
    .prepare(`explain query plan ${text}`)
    .all(...Array.from({ length: (text.match(/\?/g) ?? []).length }, () => null))
    .map((row) => (row as { detail: string }).detail)
    .join('\n');
}

describe.each(['0.131.0', '0.169.0'])('keyset pages on a Codex %s DB', (schema) => {
  it.each([
    ['createdAt', 'desc', 'created_at_ms<?'],
    ['createdAt', 'asc', 'created_at_ms>?'],
    ['updatedAt', 'desc', 'updated_at_ms<?'],
    ['updatedAt', 'asc', 'updated_at_ms>?'],
  ] as const)('%s %s seeks to the cursor (%s)', async (sortKey, sortDirection, range) => {
    const runtime = await openRuntime(makeTempDir('skein-keyset-'), schema);
    const threads = Array.from({ length: 7 }, () => sampleThread());
    for (const thread of threads) await upsertThread(runtime.ctx, thread);
    const seen: string[] = [];
    let cursor: string | null = null;
    const texts: string[] = [];
    for (let page = 0; page < 10; page += 1) {
      const params = { pageSize: 2, sortKey, sortDirection, cursor };
      let result: Awaited<ReturnType<typeof listThreads>> | undefined;
      texts.push(
        ...(await preparedDuring(runtime, async () => {
          result = await listThreads(runtime.ctx, params);
        })),
      );
      seen.push(...(result?.items ?? []).map((item) => item.id));
      cursor = result?.nextCursor ?? null;
      if (cursor === null) break;
    }
    const order = [...threads]
      .sort((a, b) =>
        sortKey === 'createdAt' ? a.createdAtMs - b.createdAtMs : a.updatedAtMs - b.updatedAtMs,
      )
      .map((thread) => thread.id);
    expect(seen).toEqual(sortDirection === 'asc' ? order : order.reverse());
    // The statement of a page after a cursor (it binds the cursor's time and id).
    const paged = texts.find((text) => text.includes('from "threads"') && text.includes(' or ('));
    expect(paged, texts.join('\n')).toBeDefined();
    const plan = planOf(runtime, paged as string);
    // One seek in the sort order: no OR of two index searches, no sort of what follows.
    expect(plan).not.toContain('MULTI-INDEX OR');
    expect(plan).not.toContain('TEMP B-TREE');
    expect(plan).toMatch(
      new RegExp(`SEARCH threads USING INDEX \\S+ \\(${range.replace(/[?]/g, '\\?')}\\)`),
    );
  });
});

describe.each(['0.131.0', '0.169.0'])('archived listings on a Codex %s DB', (schema) => {
  it.each([
    ['many archived threads walk the sort index', 40, 'idx_threads_created_at_ms'],
    ['few archived threads are looked up by their flag', 2, 'idx_threads_archived'],
  ] as const)('%s', async (_label, archivedCount, index) => {
    const runtime = await openRuntime(makeTempDir('skein-archived-plan-'), schema);
    const threads = Array.from({ length: 60 }, (_, i) =>
      sampleThread(i < archivedCount ? { archived: true, archivedAtMs: Date.UTC(2025, 1, 1) } : {}),
    );
    for (const thread of threads) await upsertThread(runtime.ctx, thread);
    const seen: string[] = [];
    const texts: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 40; page += 1) {
      let result: Awaited<ReturnType<typeof listThreads>> | undefined;
      texts.push(
        ...(await preparedDuring(runtime, async () => {
          result = await listThreads(runtime.ctx, { pageSize: 2, archived: true, cursor });
        })),
      );
      seen.push(...(result?.items ?? []).map((item) => item.id));
      cursor = result?.nextCursor ?? null;
      if (cursor === null) break;
    }
    // Every archived thread once, newest first, either way.
    const expected = threads
      .filter((thread) => thread.archived)
      .sort((a, b) => b.createdAtMs - a.createdAtMs)
      .map((thread) => thread.id);
    expect(seen).toEqual(expected);
    const listing = texts.find((text) => text.includes('order by "threads"."created_at_ms" desc'));
    expect(listing, texts.join('\n')).toBeDefined();
    const plan = planOf(runtime, listing as string);
    expect(plan).toContain(`USING INDEX ${index}`);
  });
});
