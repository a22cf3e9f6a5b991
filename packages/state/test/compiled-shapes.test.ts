/**
 * Queries compiled once per shape must answer every later run with that run's values, and a
 * build that computes with its values (so its parameters cannot be traced) must still answer
 * right, built afresh each time. Against a real SQLite database through Kysely.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { allowDirectReads, executeShaped } from '../src/compiled-shapes.js';
import { withStatementCache } from '../src/statement-cache.js';

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

  describe('direct reads', () => {
    /** A database whose compiled reads may run on the connection, counting those that do. */
    function setupDirect() {
      const sqlite = new Database(':memory:');
      open.push(sqlite);
      sqlite.exec(`create table t (id text primary key, n integer, kind text);
        insert into t values ('a', 1, 'x'), ('b', 2, 'y'), ('c', 3, 'x'), ('d', 4, 'z');`);
      const statements = withStatementCache(sqlite);
      // biome-ignore lint/suspicious/noExplicitAny: an ad-hoc schema for the test.
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: statements }) });
      const direct = { count: 0 };
      allowDirectReads(db, {
        directly: (text) => {
          const statement = statements.directly(text);
          if (statement !== undefined) direct.count += 1;
          return statement;
        },
      });
      const kinds = (kind: string) =>
        executeShaped(db, 'kind', [kind], (v) =>
          db.selectFrom('t').select(['id', 'n']).where('kind', '=', v[0]).orderBy('n'),
        );
      return { db, direct, kinds };
    }

    it('answer as Kysely does, each run with its values', async () => {
      const { db, direct, kinds } = setupDirect();
      // The first run compiles the shape (through Kysely's builder); every run reads directly.
      expect(await kinds('x')).toEqual([
        { id: 'a', n: 1 },
        { id: 'c', n: 3 },
      ]);
      expect(await kinds('z')).toEqual([{ id: 'd', n: 4 }]);
      expect(await kinds('none')).toEqual([]);
      expect(direct.count).toBe(3);
      const viaKysely = await db
        .selectFrom('t')
        .select(['id', 'n'])
        .where('kind', '=', 'x')
        .orderBy('n')
        .execute();
      expect(await kinds('x')).toEqual(viaKysely);
      await db.destroy();
    });

    it('wait for a transaction open on the connection instead of reading inside it', async () => {
      const { db, direct, kinds } = setupDirect();
      await kinds('y');
      const before = direct.count;
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let inserted = () => {};
      const insertedYet = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const transaction = db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 'e', n: 5, kind: 'y' }).execute();
        inserted();
        await held;
      });
      await insertedYet;
      // Read while the insert is uncommitted: it must not see it, nor join the transaction.
      let answered: unknown[] | undefined;
      const read = kinds('y').then((rows) => {
        answered = rows;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(answered).toBeUndefined();
      expect(direct.count).toBe(before);
      release();
      await transaction;
      await read;
      // Queued behind the transaction through Kysely, it reads the committed row.
      expect(answered).toEqual([
        { id: 'b', n: 2 },
        { id: 'e', n: 5 },
      ]);
      expect(await kinds('y')).toEqual(answered);
      expect(direct.count).toBe(before + 1);
      await db.destroy();
    });
  });
});
