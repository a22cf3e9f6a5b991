/**
 * The statement cache builds query rows itself (from better-sqlite3's raw arrays): the rows
 * Kysely gets must be what better-sqlite3's own objects are, key order and repeated names
 * included, and a kept statement must still stream and write.
 */
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../src/statement-cache.js';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

function setup() {
  const sqlite = new Database(':memory:');
  open.push(sqlite);
  sqlite.exec(`create table t (id text primary key, n integer, x real, b blob, s text);
    insert into t values ('a', 1, 1.5, x'00ff', null), ('b', 9007199254740991, -0.25, null, 'é😀');`);
  // biome-ignore lint/suspicious/noExplicitAny: an ad-hoc schema for the test.
  const db = new Kysely<any>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return { sqlite, db };
}

describe('withStatementCache', () => {
  it('gives the rows better-sqlite3 gives, repeated names and key order included', async () => {
    const { sqlite, db } = setup();
    const texts = [
      'select * from t order by id',
      "select t.*, n as s, 'x' as id, n + 1 as m from t order by rowid",
      'select count(*) from t',
      `select 1 as "__proto__", 2 as "constructor", 3 as "a'b", 4 as """", 5 as "a\\b"`,
    ];
    for (const text of texts) {
      const expected = sqlite.prepare(text).all();
      for (let run = 0; run < 2; run += 1) {
        const { rows } = await sql.raw(text).execute(db);
        expect(rows).toEqual(expected);
        expect(rows.map((row) => Object.keys(row as object))).toEqual(
          expected.map((row) => Object.keys(row as object)),
        );
      }
    }
    await db.destroy();
  });

  it('still writes, streams, and sees a changed schema', async () => {
    const { db } = setup();
    await db.insertInto('t').values({ id: 'c', n: 3 }).execute();
    const streamed: unknown[] = [];
    for await (const row of db.selectFrom('t').select(['id', 'n']).orderBy('id').stream()) {
      streamed.push(row);
    }
    expect(streamed).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 9007199254740991 },
      { id: 'c', n: 3 },
    ]);
    expect(await db.selectFrom('t').selectAll().where('id', '=', 'c').execute()).toEqual([
      { id: 'c', n: 3, x: null, b: null, s: null },
    ]);
    await sql`alter table t add column extra text default 'e'`.execute(db);
    expect(await db.selectFrom('t').selectAll().where('id', '=', 'c').execute()).toEqual([
      { id: 'c', n: 3, x: null, b: null, s: null, extra: 'e' },
    ]);
    await db.destroy();
  });

  it('follows a column another connection adds between the prepare and the run', async () => {
    // SQLite re-prepares the kept statement; a `*` that grew moves the columns after it, so
    // the row builder must follow the wider row.
    const path = join(makeTempDir(), 'cache.sqlite');
    const sqlite = new Database(path);
    open.push(sqlite);
    sqlite.exec(`create table t (id text primary key, n integer); insert into t values ('a', 1);`);
    const cache = withStatementCache(sqlite);
    const text = 'select t.*, n + 1 as m from t';
    expect(cache.prepare(text).all([])).toEqual([{ id: 'a', n: 1, m: 2 }]);
    const kept = cache.prepare(text);
    const other = new Database(path);
    other.exec(`alter table t add column extra text default 'e'`);
    other.close();
    expect(kept.all([])).toEqual([{ id: 'a', n: 1, extra: 'e', m: 2 }]);
    cache.close();
  });
});
