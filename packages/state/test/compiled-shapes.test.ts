/**
 * Queries compiled once per shape must answer every later run with that run's values, and a
 * build that computes with its values (so its parameters cannot be traced) must still answer
 * right, built afresh each time. Against a real SQLite database through Kysely.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { executeShaped } from '../src/compiled-shapes.js';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

function setup() {
  const sqlite = new Database(':memory:');
  open.push(sqlite);
  sqlite.exec(`create table t (id text primary key, n integer, kind text);
    insert into t values ('a', 1, 'x'), ('b', 2, 'y'), ('c', 3, 'x'), ('d', 4, 'z');`);
  // biome-ignore lint/suspicious/noExplicitAny: an ad-hoc schema for the test.
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Counts the statements prepared: a cached shape prepares one text, whatever its values.
  const texts = new Set<string>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    texts.add(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  return { db, texts };
}

describe('executeShaped', () => {
  it("answers each run of a shape with that run's values", async () => {
    const { db, texts } = setup();
    const run = (kinds: string[], above: number, limit: number) =>
      executeShaped(db, `kinds|${kinds.length}`, [...kinds, above, limit], (v) =>
        db
          .selectFrom('t')
          .select('id')
          .where('kind', 'in', v.slice(0, kinds.length) as string[])
          .where('n', '>', v[kinds.length] as number)
          .orderBy('n')
          .limit(v[kinds.length + 1] as number),
      );
    expect(await run(['x', 'y'], 0, 10)).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    expect(await run(['x', 'z'], 1, 10)).toEqual([{ id: 'c' }, { id: 'd' }]);
    expect(await run(['y', 'z'], 0, 1)).toEqual([{ id: 'b' }]);
    expect(await run(['z'], 0, 10)).toEqual([{ id: 'd' }]);
    expect(await run(['x'], 2, 10)).toEqual([{ id: 'c' }]);
    // One text per shape (two `in` lengths), not one per run.
    expect(texts.size).toBe(2);
    await db.destroy();
  });

  it('builds afresh a shape whose build computes with its values', async () => {
    const { db } = setup();
    const run = (above: number) =>
      executeShaped(db, 'computed', [above], (v) =>
        db
          .selectFrom('t')
          .select('id')
          .where('n', '>', (v[0] as number) + 1)
          .orderBy('n'),
      );
    expect(await run(0)).toEqual([{ id: 'b' }, { id: 'c' }, { id: 'd' }]);
    expect(await run(2)).toEqual([{ id: 'd' }]);
    expect(await run(5)).toEqual([]);
    await db.destroy();
  });

  it('keeps the shapes of each database apart', async () => {
    const first = setup();
    const second = setup();
    await sql`delete from t where id = 'a'`.execute(second.db);
    const ids = (db: Kysely<unknown>) =>
      executeShaped(db, 'all', [0], (v) =>
        // biome-ignore lint/suspicious/noExplicitAny: an ad-hoc schema for the test.
        (db as Kysely<any>).selectFrom('t').select('id').where('n', '>', v[0]).orderBy('n'),
      );
    expect((await ids(first.db)).length).toBe(4);
    expect((await ids(second.db)).length).toBe(3);
    await first.db.destroy();
    await second.db.destroy();
  });
});
