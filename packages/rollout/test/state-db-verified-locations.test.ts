import type { StateDb } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb } from '../src/index.js';
import { LocationCheck } from '../src/state-db/verified-locations.js';

/*
 * What default listings vouch for between them (the files whose rows they found pointing at
 * them), driven step by step as interleaved listings would drive it. A file is vouched for
 * only while the DB stands as it stood when the listing that found it began.
 */

const handles: StateDb[] = [];
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

async function openHome() {
  const home = makeTempDir();
  const db = await initStateDb({ codexHome: home });
  handles.push(db);
  /** A commit by another connection (another process, as far as SQLite can tell). */
  const commitElsewhere = () => {
    const other = new BetterSqlite3(db.path);
    try {
      other.exec(
        'create table if not exists unrelated (n integer); insert into unrelated values (1)',
      );
    } finally {
      other.close();
    }
  };
  return { db, commitElsewhere };
}

const fileA = { threadId: 'a', path: '/home/sessions/a.jsonl' };
const fileB = { threadId: 'b', path: '/home/sessions/b.jsonl' };

describe('LocationCheck', () => {
  it('vouches for what a finished listing found while the DB stands still', async () => {
    const { db } = await openHome();
    const first = LocationCheck.begin(db, 'active', [fileA, fileB]);
    expect(first.vouchesFor(fileA)).toBe(false);
    first.found(fileA);
    first.finish();
    const next = LocationCheck.begin(db, 'active', [fileA, fileB]);
    expect([next.vouchesFor(fileA), next.vouchesFor(fileB)]).toEqual([true, false]);
    // Another collection, a moved file, a thread met twice: not vouched for.
    expect(LocationCheck.begin(db, 'archived', [fileA]).vouchesFor(fileA)).toBe(false);
    const moved = { threadId: 'a', path: '/home/sessions/moved/a.jsonl' };
    expect(LocationCheck.begin(db, 'active', [moved]).vouchesFor(moved)).toBe(false);
    const twice = LocationCheck.begin(db, 'active', [fileA, { ...fileA, path: '/x/a.jsonl' }]);
    expect(twice.vouchesFor(fileA)).toBe(false);
  });

  it('forgets everything once any connection writes', async () => {
    const { db, commitElsewhere } = await openHome();
    const first = LocationCheck.begin(db, 'active', [fileA]);
    first.found(fileA);
    first.finish();
    commitElsewhere();
    expect(LocationCheck.begin(db, 'active', [fileA]).vouchesFor(fileA)).toBe(false);

    const again = LocationCheck.begin(db, 'active', [fileA]);
    again.found(fileA);
    again.finish();
    db.sqlite.exec('create table if not exists own (n integer); insert into own values (1)');
    expect(LocationCheck.begin(db, 'active', [fileA]).vouchesFor(fileA)).toBe(false);
  });

  it('keeps nothing from listings of two states of the DB that finish in between', async () => {
    const { db, commitElsewhere } = await openHome();
    for (const order of ['older first', 'newer first'] as const) {
      const older = LocationCheck.begin(db, 'active', [fileA, fileB]);
      commitElsewhere();
      const newer = LocationCheck.begin(db, 'active', [fileA, fileB]);
      older.found(fileA); // looked up before the commit: what it saw may be gone
      newer.found(fileB);
      if (order === 'older first') {
        older.finish();
        newer.finish();
      } else {
        newer.finish();
        older.finish();
      }
      const next = LocationCheck.begin(db, 'active', [fileA, fileB]);
      expect([order, next.vouchesFor(fileA), next.vouchesFor(fileB)]).toEqual([
        order,
        false,
        false,
      ]);
      next.finish();
    }
  });
});
