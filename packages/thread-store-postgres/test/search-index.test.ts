/**
 * Search by term on PostgreSQL: the trigram indexes of state migration 0006 must change how
 * rows are found, never which. Every result here is checked against a plain `strpos` scan (the
 * rule: a case-sensitive substring of name, title or preview), through both query paths that
 * search on PostgreSQL (PostgresThreadStore.listThreads and @skein/state's listThreads).
 */
import { randomUUID } from 'node:crypto';
import {
  createStateContext,
  listThreads as listStateThreads,
  type StateDatabase,
} from '@skein/state';
import { type PostgresServer, startPostgres } from '@skein/test-support';
import type { ThreadPage } from '@skein/thread-store';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresThreadStore } from '../src/index.js';

let server: PostgresServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.stop();
});

const TRGM_INDEXES = [
  'idx_threads_name_trgm',
  'idx_threads_preview_trgm',
  'idx_threads_title_trgm',
];

/** Characters that stress the predicate: wildcards, escapes, quotes, case, multi-byte text. */
const ALPHABET = [
  'a',
  'b',
  'A',
  'B',
  't',
  'h',
  'r',
  'e',
  'd',
  ' ',
  '%',
  '_',
  '\\',
  "'",
  '"',
  'é',
  'É',
  'ß',
  '日',
  '本',
  '語',
  '😀',
  'e\u0301', // e + combining acute: not the same text as 'é'
];

/** Deterministic pseudo-random generator (the data must be the same on every run). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface SeedRow {
  id: string;
  created: number;
  name: string | null;
  title: string;
  preview: string;
  archived: number;
}

function makeRows(count: number): SeedRow[] {
  const random = generator(20261122);
  const text = (maxLength: number) => {
    const length = Math.floor(random() * (maxLength + 1));
    let out = '';
    for (let i = 0; i < length; i += 1) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return out;
  };
  const rows: SeedRow[] = [];
  for (let i = 0; i < count; i += 1) {
    rows.push({
      id: randomUUID(),
      // Few distinct times: many ties, so pages split inside a tie and the id decides.
      created: 1_700_000_000_000 + Math.floor(random() * 40) * 1000,
      name: random() < 0.4 ? null : text(6),
      title: text(10),
      preview: random() < 0.1 ? '' : `${text(8)} thread ${i % 7} ${text(8)}`,
      archived: random() < 0.1 ? 1 : 0,
    });
  }
  return rows;
}

async function seed(url: string, rows: readonly SeedRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const row of rows) {
      await client.query(
        `INSERT INTO threads (id, rollout_path, created_at_ms, updated_at_ms, recency_at_ms,
           source, model_provider, cwd, title, name, preview, first_user_message,
           sandbox_policy, approval_mode, archived)
         VALUES ($1, '', $2, $2, $2, 'cli', 'openai', '/work/p', $3, $4, $5, $5,
           '{"type":"read-only"}', 'on-request', $6)`,
        [row.id, row.created, row.title, row.name, row.preview, row.archived],
      );
      await client.query(
        'INSERT INTO thread_store_threads (thread_id, session_id, item_count) VALUES ($1, $1, 0)',
        [row.id],
      );
    }
    await client.query('ANALYZE threads');
  } finally {
    await client.end();
  }
}

/** The reference: the plain `strpos` scan the indexes must agree with. */
async function expectedIds(url: string, term: string, archived: boolean): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM threads
       WHERE archived = $2 AND preview <> ''
         AND (strpos(coalesce(name, ''), $1) > 0 OR strpos(title, $1) > 0)
       ORDER BY created_at_ms DESC, id DESC`,
      [term, archived ? 1 : 0],
    );
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

/** Terms: fixed hard cases plus substrings cut from the data (so most of them match). */
function searchTerms(rows: readonly SeedRow[]): string[] {
  const fixed = [
    'a',
    'A',
    'ab',
    'aB',
    'thread',
    'Thread',
    'THREAD',
    'thread 3',
    '%',
    '_',
    '\\',
    '%%',
    '_a',
    'a%',
    '\\%',
    '\\_',
    "'",
    '"',
    "'a'",
    'é',
    'É',
    'e\u0301',
    'ß',
    'SS',
    '日本',
    '日本語',
    '😀',
    '😀a',
    ' ',
    'none-such-term',
    'x',
  ];
  const random = generator(7);
  const cut: string[] = [];
  for (let i = 0; i < 40; i += 1) {
    const row = rows[Math.floor(random() * rows.length)];
    const source = [row?.name ?? '', row?.title ?? '', row?.preview ?? ''][i % 3] ?? '';
    const chars = [...source];
    if (chars.length === 0) continue;
    const start = Math.floor(random() * chars.length);
    const length = 1 + Math.floor(random() * 5);
    cut.push(chars.slice(start, start + length).join(''));
  }
  return [...new Set([...fixed, ...cut])];
}

type Lister = (params: {
  term: string;
  archived: boolean;
  cursor: string | null;
  direction: 'asc' | 'desc';
}) => Promise<{ ids: string[]; nextCursor: string | null; backwardsCursor: string | null }>;

function storeLister(store: PostgresThreadStore, pageSize: number): Lister {
  return async ({ term, archived, cursor, direction }) => {
    const page: ThreadPage = await store.listThreads({
      pageSize,
      searchTerm: term,
      archived,
      cursor,
      sortDirection: direction,
    });
    return {
      ids: page.items.map((item) => item.threadId),
      nextCursor: page.nextCursor,
      backwardsCursor: page.backwardsCursor ?? null,
    };
  };
}

function stateLister(db: Kysely<StateDatabase>, pageSize: number): Lister {
  const ctx = createStateContext(db);
  return async ({ term, archived, cursor, direction }) => {
    const page = await listStateThreads(ctx, {
      pageSize,
      searchTerm: term,
      archived,
      cursor,
      sortDirection: direction,
    });
    return {
      ids: page.items.map((item) => item.id),
      nextCursor: page.nextCursor,
      backwardsCursor: page.backwardsCursor,
    };
  };
}

/** Walks every page forward (newest first), then back from the last page to the first. */
async function walk(list: Lister, term: string, archived: boolean) {
  const forward: string[] = [];
  let cursor: string | null = null;
  let lastBackwards: string | null = null;
  for (let pages = 0; pages < 500; pages += 1) {
    const page = await list({ term, archived, cursor, direction: 'desc' });
    forward.push(...page.ids);
    if (page.backwardsCursor) lastBackwards = page.backwardsCursor;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  // Backwards from the last page's first item: everything before it, nearest first.
  const backward: string[] = [];
  cursor = lastBackwards;
  for (let pages = 0; cursor && pages < 500; pages += 1) {
    const page = await list({ term, archived, cursor, direction: 'asc' });
    backward.push(...page.ids);
    cursor = page.nextCursor;
  }
  return { forward, backward };
}

async function expectSameAsScan(url: string, lists: Lister[], terms: readonly string[]) {
  let matchedTerms = 0;
  for (const archived of [false, true]) {
    for (const term of terms) {
      const expected = await expectedIds(url, term, archived);
      if (expected.length > 0) matchedTerms += 1;
      for (const list of lists) {
        const { forward, backward } = await walk(list, term, archived);
        expect(forward, `term ${JSON.stringify(term)}`).toEqual(expected);
        // The last page, walked back, yields everything before it in reverse.
        const lastPageSize = expected.length === 0 ? 0 : ((expected.length - 1) % 7) + 1;
        expect(backward, `term ${JSON.stringify(term)} backwards`).toEqual(
          expected.slice(0, expected.length - lastPageSize).reverse(),
        );
      }
    }
  }
  // The data must make the comparison meaningful: most terms match something.
  expect(matchedTerms).toBeGreaterThan(terms.length / 2);
}

async function openBoth(url: string) {
  const store = await PostgresThreadStore.open({ connectionString: url });
  const db = new Kysely<StateDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
  cleanups.push(
    () => store.close(),
    () => db.destroy(),
  );
  return { store, db, lists: [storeLister(store, 7), stateLister(db, 7)] };
}

async function queryAll<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const trgmIndexNames = async (url: string) =>
  (
    await queryAll<{ indexname: string }>(
      url,
      "SELECT indexname FROM pg_indexes WHERE tablename = 'threads' AND indexname LIKE '%trgm' ORDER BY 1",
    )
  ).map((row) => row.indexname);

const trgmIndexValidity = async (url: string) =>
  (
    await queryAll<{ name: string; valid: boolean }>(
      url,
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'idx_threads_%_trgm' ORDER BY 1`,
    )
  ).map((row) => [row.name, row.valid]);

/** A provider policy that lets privilege checks pass but refuses CREATE EXTENSION itself. */
const REFUSE_EXTENSIONS_SQL = `CREATE FUNCTION refuse_extensions() RETURNS event_trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'extensions are managed by the provider'; END $$;
  CREATE EVENT TRIGGER refuse_extensions ON ddl_command_start
    WHEN TAG IN ('CREATE EXTENSION') EXECUTE FUNCTION refuse_extensions()`;

const rows = makeRows(400);
const terms = searchTerms(rows);

describe('search by term on PostgreSQL', () => {
  it('uses the trigram indexes and matches the strpos scan exactly, pages both ways', async () => {
    const url = await server.createDatabase();
    const { lists } = await openBoth(url);
    expect(await trgmIndexNames(url)).toEqual(TRGM_INDEXES);
    await seed(url, rows);
    // Default plans (at 400 rows mostly scans) ...
    await expectSameAsScan(url, lists, terms);

    // ... and with every plan but the bitmap scans priced out, so the trigram indexes answer.
    const database = new URL(url).pathname.slice(1);
    server.psql(
      `ALTER DATABASE ${database} SET enable_seqscan = off; ALTER DATABASE ${database} SET enable_indexscan = off`,
    );
    const plan = (
      await queryAll<{ 'QUERY PLAN': string }>(
        url,
        `EXPLAIN SELECT id FROM threads WHERE archived = 0 AND preview <> ''
         AND (title IS NOT NULL AND title LIKE '%thre%')`,
      )
    )
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    expect(plan).toContain('idx_threads_title_trgm');
    const forced = await openBoth(url);
    await expectSameAsScan(url, forced.lists, terms);
  });

  it('migrates without pg_trgm when the role may not create it, and search still scans', async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const role = `skein_plain_${database}`;
    // A real unprivileged owner of the schema objects: no CREATE on the database, so it may
    // not create even a trusted extension.
    server.psql(`CREATE ROLE ${role} LOGIN; GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    await queryAll(url, `GRANT CREATE, USAGE ON SCHEMA public TO ${role}`);
    const roleUrl = new URL(url);
    roleUrl.username = role;
    expect(
      await queryAll(
        roleUrl.href,
        "SELECT has_database_privilege(current_database(), 'CREATE') AS c",
      ),
    ).toEqual([{ c: false }]);

    const { store, lists } = await openBoth(roleUrl.href);
    expect(await queryAll(url, "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).toEqual([]);
    expect(await trgmIndexNames(url)).toEqual([]);
    const migrations = await queryAll<{ name: string }>(
      url,
      'SELECT name FROM skein_migration ORDER BY name',
    );
    expect(migrations.map((row) => row.name)).toContain('0006_thread_search_trigram_indexes');
    // The store is fully usable by that role.
    await seed(roleUrl.href, rows.slice(0, 150));
    expect((await store.listThreads({ pageSize: 5 })).items.length).toBe(5);
    await expectSameAsScan(roleUrl.href, lists, terms.slice(0, 20));
  });

  it('migrates when CREATE EXTENSION itself fails (the savepoint keeps the migration alive)', async () => {
    const url = await server.createDatabase();
    // A provider policy that lets the privilege checks pass but refuses the statement: an
    // event trigger that raises on CREATE EXTENSION, inside the migration's transaction.
    await queryAll(url, REFUSE_EXTENSIONS_SQL);
    await expect(queryAll(url, 'CREATE EXTENSION pg_trgm')).rejects.toThrow(
      /managed by the provider/,
    );
    const { store, lists } = await openBoth(url);
    expect(await queryAll(url, "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).toEqual([]);
    expect(await trgmIndexNames(url)).toEqual([]);
    const migrations = await queryAll<{ name: string }>(
      url,
      'SELECT name FROM skein_migration ORDER BY name',
    );
    expect(migrations.map((row) => row.name)).toContain('0006_thread_search_trigram_indexes');
    await seed(url, rows.slice(0, 100));
    expect((await store.listThreads({ pageSize: 5 })).items.length).toBe(5);
    await expectSameAsScan(url, lists, terms.slice(0, 15));
  });

  it('builds the indexes when pg_trgm arrives after the migration, once across stores', async () => {
    const url = await server.createDatabase();
    await queryAll(url, REFUSE_EXTENSIONS_SQL);
    const first = await openBoth(url);
    expect(await first.store.searchIndexBuild).toEqual({ built: [], error: null });
    expect(await trgmIndexNames(url)).toEqual([]);
    await seed(url, rows.slice(0, 150));

    // A DBA installs the extension later; the next stores to open build what 0006 could not,
    // concurrently (writers go on), and only one of them does.
    await queryAll(url, 'DROP EVENT TRIGGER refuse_extensions; CREATE EXTENSION pg_trgm');
    const [b, c] = await Promise.all([openBoth(url), openBoth(url)]);
    const builds = [await b.store.searchIndexBuild, await c.store.searchIndexBuild];
    expect(builds.map((build) => build.error)).toEqual([null, null]);
    expect(builds.flatMap((build) => build.built).sort()).toEqual(TRGM_INDEXES);
    expect(await trgmIndexValidity(url)).toEqual(TRGM_INDEXES.map((name) => [name, true]));
    await expectSameAsScan(url, b.lists, terms.slice(0, 20));
    const later = await openBoth(url);
    expect(await later.store.searchIndexBuild).toEqual({ built: [], error: null });
  });

  it('rebuilds an index a killed build left invalid', async () => {
    const url = await server.createDatabase();
    const first = await openBoth(url);
    expect(await first.store.searchIndexBuild).toEqual({ built: [], error: null });
    await seed(url, rows.slice(0, 100));
    // What an interrupted CREATE INDEX CONCURRENTLY leaves behind: an index marked invalid.
    await queryAll(
      url,
      "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_threads_title_trgm'::regclass",
    );
    const second = await openBoth(url);
    expect(await second.store.searchIndexBuild).toEqual({
      built: ['idx_threads_title_trgm'],
      error: null,
    });
    expect(await trgmIndexValidity(url)).toEqual(TRGM_INDEXES.map((name) => [name, true]));
    await expectSameAsScan(url, second.lists, terms.slice(0, 15));
  });

  it('finds pg_trgm installed in a schema outside the search path', async () => {
    const url = await server.createDatabase();
    await queryAll(url, 'CREATE SCHEMA trgm_ext; CREATE EXTENSION pg_trgm SCHEMA trgm_ext');
    const { lists } = await openBoth(url);
    expect(await trgmIndexNames(url)).toEqual(TRGM_INDEXES);
    const definitions = await queryAll<{ indexdef: string }>(
      url,
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_threads_title_trgm'",
    );
    expect(definitions[0]?.indexdef).toContain('trgm_ext.gin_trgm_ops');
    await seed(url, rows.slice(0, 100));
    await expectSameAsScan(url, lists, terms.slice(0, 15));
  });
});
