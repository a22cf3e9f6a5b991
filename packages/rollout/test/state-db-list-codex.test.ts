import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getThread, type StateDb } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb, listThreadsFromFiles, listThreadsWithDb } from '../src/index.js';
import { type WrittenThread, writeLegacyRollout } from './state-db-helpers.js';

/*
 * Which listing answers from the files and which from the DB, and what each writes, as Codex
 * 0.169 does it (observed on the real binary with a home whose DB rows were made to disagree
 * with their rollouts, so every answered field shows where it came from).
 */

const handles: StateDb[] = [];
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

async function setup(count: number) {
  const home = makeTempDir();
  const threads = Array.from({ length: count }, (_, index) => writeLegacyRollout(home, { index }));
  // 0.169's schema: it has the recency columns.
  const db = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
  handles.push(db);
  return { home, threads, db };
}

/** Makes a thread's row say other things than its rollout does. */
function tamper(db: StateDb, id: string, columns: Record<string, string | number>) {
  const sets = Object.keys(columns)
    .map((column) => `${column} = @${column}`)
    .join(', ');
  db.sqlite.prepare(`UPDATE threads SET ${sets} WHERE id = @id`).run({ ...columns, id });
}

const ids = (page: { items: { id: string }[] }) => page.items.map((t) => t.id);

describe('a listing filtered by source answers from the files', () => {
  it('with the DB facts laid over the rollout heads', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[2] as WrittenThread;
    tamper(db, t.id, {
      model: 'db-model',
      reasoning_effort: 'low',
      cli_version: '9.9.9',
      cwd: '/db/cwd',
      git_sha: 'dbsha',
      recency_at_ms: t.mtimeMs + 60_000,
    });
    const page = await listThreadsWithDb(home, { pageSize: 1, stateDb: db });
    expect(page.origin).toBe('filesystem');
    const row = page.items[0];
    expect(row?.id).toBe(t.id);
    // From the DB: what only it knows.
    expect(row?.model).toBe('db-model');
    expect(row?.reasoningEffort).toBe('low');
    expect(row?.gitSha).toBe('dbsha');
    expect(row?.recencyAtMs).toBe(t.mtimeMs + 60_000);
    // From the rollout: what its head says, and the file's mtime.
    expect(row?.cliVersion).toBe('0.131.0');
    expect(row?.cwd).toBe(t.cwd);
    expect(row?.updatedAtMs).toBe(t.mtimeMs);
    // The file page resumes at the file-name second.
    const second = new Date(Math.floor((t.mtimeMs - 30_000) / 1000) * 1000).toISOString();
    expect(page.nextCursor).toBe(`${second.replace('.000Z', 'Z')}|${t.id}`);
  });

  it('re-derives the rows only the DB page holds, and writes nothing else', async () => {
    const home = makeTempDir();
    const threads = [
      writeLegacyRollout(home, { index: 0, git: { commit_hash: 'filesha', branch: 'main' } }),
      ...[1, 2, 3].map((index) => writeLegacyRollout(home, { index })),
    ];
    const db = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
    handles.push(db);
    const oldest = threads[0] as WrittenThread;
    // Its git info was cleared by a metadata update: re-deriving does not bring it back.
    db.sqlite
      .prepare('UPDATE threads SET git_sha = NULL, git_branch = NULL WHERE id = ?')
      .run(oldest.id);
    const newest = threads[3] as WrittenThread;
    // The oldest file claims in the DB to be the newest thread: the DB page (one row) has it,
    // the files' page (the two newest files) does not.
    tamper(db, oldest.id, { created_at_ms: newest.mtimeMs + 3_600_000, model: 'db-model' });
    tamper(db, newest.id, { model: 'db-model' });
    const page = await listThreadsWithDb(home, { pageSize: 1, stateDb: db });
    expect(ids(page)).toEqual([newest.id]);
    const rederived = await getThread(db.ctx, oldest.id);
    expect(rederived?.model).toBe('gpt-5');
    expect(rederived?.createdAtMs).toBe(oldest.mtimeMs - 30_000);
    expect([rederived?.gitSha, rederived?.gitBranch]).toEqual([null, null]);
    // A file on the page keeps its row as it was.
    expect((await getThread(db.ctx, newest.id))?.model).toBe('db-model');
  });

  it('finds threads by their session-index names, not by their messages', async () => {
    const { home, threads } = await setup(3);
    const named = threads[1] as WrittenThread;
    expect(
      (await listThreadsFromFiles(home, { pageSize: 10, searchTerm: 'thread' })).items,
    ).toEqual([]);
    appendFileSync(
      join(home, 'session_index.jsonl'),
      `${JSON.stringify({ id: named.id, thread_name: 'Quokka plan', updated_at: new Date().toISOString() })}\n`,
    );
    const page = await listThreadsFromFiles(home, { pageSize: 10, searchTerm: 'Quokka' });
    expect(page.items.map((i) => i.threadId)).toEqual([named.id]);
    // An empty term keeps every named thread.
    const empty = await listThreadsFromFiles(home, { pageSize: 10, searchTerm: '' });
    expect(empty.items.map((i) => i.threadId)).toEqual([named.id]);
  });

  it('reads no file when no session-index name holds the term', async () => {
    const { home, threads } = await setup(3);
    const search = (searchTerm: string) => listThreadsFromFiles(home, { pageSize: 10, searchTerm });
    // No index at all: nothing is named, so nothing can match.
    expect(await search('')).toMatchObject({ items: [], numScannedFiles: 0, nextCursor: null });
    appendFileSync(
      join(home, 'session_index.jsonl'),
      `${JSON.stringify({ id: threads[0]?.id, thread_name: 'Quokka plan', updated_at: new Date().toISOString() })}\n`,
    );
    expect(await search('Walrus')).toMatchObject({ items: [], numScannedFiles: 0 });
    // A term some name holds still walks the files to find that thread's.
    const found = await search('Quokka');
    expect(found.items.map((i) => i.threadId)).toEqual([threads[0]?.id]);
    expect(found.numScannedFiles).toBe(3);
  });
});

describe('listings Codex answers from its DB', () => {
  it('recency: the DB page as it is, nothing repaired', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[1] as WrittenThread;
    tamper(db, t.id, { cli_version: '9.9.9', recency_at_ms: t.mtimeMs + 600_000 });
    const before = db.sqlite.prepare('select * from threads order by id').all();
    const page = await listThreadsWithDb(home, { pageSize: 5, stateDb: db, sortKey: 'recencyAt' });
    expect(page.origin).toBe('state_db');
    expect(page.items[0]?.id).toBe(t.id);
    expect(page.items[0]?.cliVersion).toBe('9.9.9');
    expect(db.sqlite.prepare('select * from threads order by id').all()).toEqual(before);
  });

  it('recency: the rows only the DB page holds are re-derived, then the DB page answers', async () => {
    const { home, threads, db } = await setup(4);
    const oldest = threads[0] as WrittenThread;
    // The oldest file is the most recent thread in the DB; the files (by mtime) do not show it.
    tamper(db, oldest.id, { recency_at_ms: oldest.mtimeMs + 3_600_000, model: 'db-model' });
    const page = await listThreadsWithDb(home, { pageSize: 1, stateDb: db, sortKey: 'recencyAt' });
    expect(page.origin).toBe('state_db');
    expect(ids(page)).toEqual([oldest.id]);
    expect(page.items[0]?.model).toBe('gpt-5');
    // Re-deriving leaves recency alone.
    expect(page.items[0]?.recencyAtMs).toBe(oldest.mtimeMs + 3_600_000);
  });

  it('no filter at all: the DB page, with cursors in milliseconds', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[1] as WrittenThread;
    tamper(db, t.id, { cli_version: '9.9.9' });
    const page = await listThreadsWithDb(home, {
      pageSize: 2,
      stateDb: db,
      allowedSources: [],
      sortKey: 'updatedAt',
    });
    expect(page.origin).toBe('state_db');
    expect(ids(page)).toEqual([threads[2]?.id, t.id]);
    expect(page.items[1]?.cliVersion).toBe('9.9.9');
    const updated = (await getThread(db.ctx, t.id))?.updatedAtMs as number;
    expect(page.nextCursor).toBe(
      `${new Date(updated).toISOString().replace(/\.?0+Z$/, 'Z')}|${t.id}`,
    );
  });

  it('a DB search matches the name, the title and the preview, case-sensitively', async () => {
    const { home, threads, db } = await setup(5);
    const [a, b, c] = threads as WrittenThread[];
    tamper(db, (a as WrittenThread).id, { title: 'Quokka title' });
    tamper(db, (b as WrittenThread).id, { name: 'Quokka name' });
    // A fork by reference: its own title, the preview it inherits.
    tamper(db, (c as WrittenThread).id, { title: 'Own words', preview: 'Quokka inherited' });
    const search = (term: string, pageSize = 10, cursor?: string) =>
      listThreadsWithDb(home, {
        pageSize,
        stateDb: db,
        searchTerm: term,
        useStateDbOnly: true,
        ...(cursor === undefined ? {} : { cursor }),
      });
    expect(ids(await search('Quokka'))).toEqual([c, b, a].map((t) => (t as WrittenThread).id));
    expect(ids(await search('quokka'))).toEqual([]);
    const first = await search('Quokka', 2);
    expect(ids(first)).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await search('Quokka', 2, first.nextCursor as string);
    expect(ids(second)).toEqual([(a as WrittenThread).id]);
    expect(second.nextCursor).toBeNull();
  });

  it('a DB search reads the rows its page needs, and more only for rows it cannot use', async () => {
    const { home, threads, db } = await setup(8);
    for (const t of threads) tamper(db, t.id, { title: `Quokka ${t.id}` });
    const search = () =>
      listThreadsWithDb(home, {
        pageSize: 2,
        stateDb: db,
        searchTerm: 'Quokka',
        useStateDbOnly: true,
      });
    const newestFirst = [...threads].reverse().map((t) => t.id);
    const first = await search();
    expect(ids(first)).toEqual(newestFirst.slice(0, 2));
    // Not every match: the page's two rows, the one that tells a next page exists, and the
    // state query's own look-ahead row.
    expect(first.numScanned).toBe(4);
    expect(first.nextCursor).not.toBeNull();
    // The three newest files are gone: their rows are skipped, the page filled from the next.
    for (const t of threads.slice(-3)) rmSync(t.path);
    const filled = await search();
    expect(ids(filled)).toEqual(newestFirst.slice(3, 5));
    expect(filled.nextCursor).not.toBeNull();
  });

  it('a search the DB answers: its rows re-derived from their files first', async () => {
    const { home, threads, db } = await setup(3);
    const t = threads[0] as WrittenThread;
    tamper(db, t.id, { model: 'db-model', title: 'Quokka notes' });
    const page = await listThreadsWithDb(home, { pageSize: 5, stateDb: db, searchTerm: 'Quokka' });
    expect(page.origin).toBe('state_db');
    expect(ids(page)).toEqual([t.id]);
    expect(page.items[0]?.model).toBe('gpt-5');
    // An explicit title survives the re-derivation.
    expect(page.items[0]?.title).toBe('Quokka notes');
  });
});

describe('file pages compare cursors at the file-name second', () => {
  it('pages both ways the way 0.169.0 does', async () => {
    const home = makeTempDir();
    const base = Date.UTC(2026, 10, 22, 3, 36, 59);
    const a = writeLegacyRollout(home, { index: 0, idMs: base + 645 });
    const b = writeLegacyRollout(home, { index: 1, idMs: base + 1808 });
    // asc from …:59.000Z: a file of second :59 is not after it.
    const asc = await listThreadsFromFiles(home, {
      pageSize: 5,
      sortDirection: 'asc',
      cursor: new Date(base).toISOString(),
    });
    expect(ids({ items: asc.items.map((i) => ({ id: i.threadId })) })).toEqual([b.id]);
    // desc from …:00.900Z: a file of second :00 is before it.
    const desc = await listThreadsFromFiles(home, {
      pageSize: 5,
      cursor: new Date(base + 1900).toISOString(),
    });
    expect(desc.items.map((i) => i.threadId)).toEqual([b.id, a.id]);
  });
});

describe('never-messaged threads', () => {
  it('are listed once archived (empty preview), never while active', async () => {
    const home = makeTempDir();
    const active = writeLegacyRollout(home, { index: 0, userMessage: null });
    const archived = writeLegacyRollout(home, { index: 1, userMessage: null, archived: true });
    expect((await listThreadsFromFiles(home, { pageSize: 5 })).items).toEqual([]);
    const page = await listThreadsFromFiles(home, { pageSize: 5, archived: true });
    expect(page.items.map((i) => [i.threadId, i.preview])).toEqual([[archived.id, '']]);
    expect(active.id).not.toBe(archived.id);
  });
});

describe('a 0.131 DB (no originator column)', () => {
  it('shows the originator of rows a listing re-derived, as 0.169 (which adds the column) does', async () => {
    const home = makeTempDir();
    const threads = [0, 1, 2].map((index) => writeLegacyRollout(home, { index }));
    const db = await initStateDb({ codexHome: home, createSchema: '0.131.0' });
    handles.push(db);
    const everything = { pageSize: 10, stateDb: db, allowedSources: [] };
    const originators = async () =>
      new Map((await listThreadsWithDb(home, everything)).items.map((t) => [t.id, t.originator]));
    expect([...(await originators()).values()]).toEqual([null, null, null]);
    const searched = threads[1] as WrittenThread;
    const page = await listThreadsWithDb(home, { ...everything, searchTerm: 'thread 1' });
    expect(page.items.map((t) => [t.id, t.originator])).toEqual([[searched.id, 'codex_cli_rs']]);
    const after = await originators();
    expect(after.get(searched.id)).toBe('codex_cli_rs');
    expect(after.get((threads[0] as WrittenThread).id)).toBeNull();
  });
});
