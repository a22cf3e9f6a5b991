import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KNOWN_STATE_SCHEMAS,
  StateRuntime,
  stateDbFileName,
  type ThreadMetadata,
} from '../src/index.js';
import { sampleThread } from './helpers.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const handle of open.splice(0).reverse()) await handle.close();
});

async function runtimeIn(dir: string, createSchema?: string): Promise<StateRuntime> {
  const runtime = await StateRuntime.open({
    sqliteHome: dir,
    ...(createSchema !== undefined ? { createSchema } : {}),
  });
  open.push(runtime);
  return runtime;
}

/** A second connection, as another process (Codex) would read the DB. */
function observer(dir: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(join(dir, stateDbFileName()), { readonly: true });
  open.push(db);
  return db;
}

/** The threads table's indexes as the schema stores them: names and SQL. */
function threadIndexes(db: BetterSqlite3.Database): { name: string; sql: string | null }[] {
  return db
    .prepare(
      "select name, sql from sqlite_master where type = 'index' and tbl_name = 'threads' order by name",
    )
    .all() as { name: string; sql: string | null }[];
}

function count(db: BetterSqlite3.Database): number {
  return (db.prepare('select count(*) as n from threads').get() as { n: number }).n;
}

describe('BulkThreadImport', () => {
  for (const schema of KNOWN_STATE_SCHEMAS.map((known) => known.codexVersion)) {
    it(`Codex ${schema}: others see the table with every index, empty, until one commit shows it full`, async () => {
      const dir = makeTempDir();
      const runtime = await runtimeIn(dir, schema);
      const other = observer(dir);
      const before = threadIndexes(other);
      expect(before.filter((index) => index.sql !== null).length).toBeGreaterThan(4);

      const bulk = runtime.beginBulkThreadImport();
      expect(bulk).not.toBeNull();
      // Inside the import, on its own connection: the plain indexes are gone.
      expect(threadIndexes(runtime.sqlite).length).toBeLessThan(before.length);
      const threads = Array.from({ length: 50 }, () => sampleThread());
      runtime.upsertThreadsBatch(threads.slice(0, 25).map((metadata) => ({ metadata })));
      runtime.upsertThreadsBatch(threads.slice(25).map((metadata) => ({ metadata })));
      expect(threadIndexes(other)).toEqual(before);
      expect(count(other)).toBe(0);

      bulk?.finish();
      expect(bulk?.open).toBe(false);
      expect(runtime.sqlite.inTransaction).toBe(false);
      expect(threadIndexes(other)).toEqual(before);
      expect(count(other)).toBe(50);
      // The rebuilt indexes hold every row: a lookup through each one finds them all.
      expect(other.prepare('pragma integrity_check').pluck().all()).toEqual(['ok']);
      const newest = other
        .prepare(
          'select id from threads indexed by idx_threads_updated_at order by updated_at desc, id desc',
        )
        .pluck()
        .all();
      expect(newest).toHaveLength(50);
    });
  }

  it('an aborted import leaves the table empty with every index', async () => {
    const dir = makeTempDir();
    const runtime = await runtimeIn(dir);
    const before = threadIndexes(runtime.sqlite);
    const bulk = runtime.beginBulkThreadImport();
    runtime.upsertThreadsBatch([{ metadata: sampleThread() }]);
    bulk?.abort();
    expect(runtime.sqlite.inTransaction).toBe(false);
    expect(threadIndexes(runtime.sqlite)).toEqual(before);
    expect(count(runtime.sqlite)).toBe(0);
    // Finishing after an abort changes nothing.
    bulk?.finish();
    expect(count(runtime.sqlite)).toBe(0);
  });

  it("keeps a 0.131 DB's sidecar recency as a row-by-row import does, and its trigger", async () => {
    // On Codex 0.131's schema recency lives in Skein's sidecar, filled by a trigger of the
    // connection; the import suspends it and seeds the sidecar in one statement.
    const recencies = (runtime: StateRuntime) =>
      runtime.sqlite
        .prepare('select thread_id, recency_at_ms from skein.skein_thread_recency order by 1')
        .all();
    const trigger = (runtime: StateRuntime) =>
      runtime.sqlite
        .prepare("select name from sqlite_temp_master where name = 'skein_recency_after_insert'")
        .pluck()
        .all();
    const threads = Array.from({ length: 30 }, () => sampleThread());
    // Two rows of one thread in one import: the second updates the first.
    const entries = [...threads, { ...(threads[0] as ThreadMetadata), updatedAtMs: 1 }].map(
      (metadata) => ({ metadata }),
    );
    const rowByRow = await runtimeIn(makeTempDir(), '0.131.0');
    rowByRow.upsertThreadsBatch(entries);
    const bulkRun = await runtimeIn(makeTempDir(), '0.131.0');
    expect(trigger(bulkRun)).toHaveLength(1);
    const bulk = bulkRun.beginBulkThreadImport();
    expect(bulk).not.toBeNull();
    bulkRun.upsertThreadsBatch(entries);
    // Suspended for the whole import: the dropped indexes move the schema cookie, and the
    // runtime takes that as its own change instead of identifying the schema again (which
    // would set the triggers up).
    expect(trigger(bulkRun)).toHaveLength(0);
    bulk?.finish();
    expect(recencies(bulkRun)).toHaveLength(30);
    expect(recencies(bulkRun)).toEqual(recencies(rowByRow));
    // The trigger is back: a thread written after the import gets its recency.
    expect(trigger(bulkRun)).toHaveLength(1);
    const later = sampleThread();
    bulkRun.upsertThreadsBatch([{ metadata: later }]);
    expect(recencies(bulkRun)).toContainEqual({
      thread_id: later.id,
      recency_at_ms: later.updatedAtMs,
    });
    // An aborted import brings the trigger back with its rollback.
    const aborted = await runtimeIn(makeTempDir(), '0.131.0');
    aborted.beginBulkThreadImport()?.abort();
    expect(trigger(aborted)).toHaveLength(1);
  });

  it('does not start on a table with rows, and leaves no transaction open', async () => {
    const dir = makeTempDir();
    const runtime = await runtimeIn(dir);
    runtime.upsertThreadsBatch([{ metadata: sampleThread() }]);
    const before = threadIndexes(runtime.sqlite);
    expect(runtime.beginBulkThreadImport()).toBeNull();
    expect(runtime.sqlite.inTransaction).toBe(false);
    expect(threadIndexes(runtime.sqlite)).toEqual(before);
  });

  it('refuses to start inside another transaction', async () => {
    const runtime = await runtimeIn(makeTempDir());
    runtime.sqlite.exec('begin');
    try {
      expect(() => runtime.beginBulkThreadImport()).toThrow(/inside another transaction/);
    } finally {
      runtime.sqlite.exec('rollback');
    }
  });
});
