import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { diagnoseHome, repairHome } from '../src/index.js';
import { brief, expectRepaired, installHome, query, recordedHome, sql } from './doctor-helpers.js';

const STATE = 'state_5.sqlite';

function removeStateDb(home: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(home, STATE + suffix), { force: true });
}

describe('doctor: Codex’s state DB', () => {
  it.each(['recorded:codex-0.169.0', 'codex-0.131'] as const)(
    'a missing state DB (%s) is created and backfilled, then names and projections follow',
    async (name) => {
      const home = installHome(name);
      const rows = query<{ id: string }>(home, STATE, "select id from threads where preview <> ''");
      removeStateDb(home);
      const diagnosis = await diagnoseHome({ codexHome: home });
      expect(diagnosis.stateDb.exists).toBe(false);
      await expectRepaired(home, [{ kind: 'state-db-missing' }]);
      const rebuilt = new Set(
        query<{ id: string }>(home, STATE, 'select id from threads').map((r) => r.id),
      );
      for (const row of rows) expect(rebuilt.has(row.id)).toBe(true);
    },
  );

  it('a corrupt state DB is moved to db-backups/ and rebuilt from the rollouts, as Codex does', async () => {
    const { home, thread } = recordedHome();
    const p1 = thread('P1');
    const file = join(home, STATE);
    const size = readFileSync(file).length;
    const fd = openSync(file, 'r+');
    try {
      // Garbage over every page but the header page: the file no longer reads as a DB.
      const junk = Buffer.alloc(size - 4096, 0x5a);
      writeSync(fd, junk, 0, junk.length, 4096);
    } finally {
      closeSync(fd);
    }
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual([
      expect.stringMatching(/^error state-db-corrupt state_5\.sqlite: /),
    ]);
    await expectRepaired(home, [{ kind: 'state-db-corrupt' }]);
    expect(readdirSync(join(home, 'db-backups'))).toHaveLength(1);
    expect(
      query<{ name: string }>(home, STATE, 'select name from threads where id = ?', p1.id),
    ).toEqual([{ name: 'Alpha launch plan (final)' }]);
  });

  it('an unfinished backfill is finished, and the rows it lacked come back', async () => {
    const { home, thread } = recordedHome();
    const p1 = thread('P1');
    const p9 = thread('P9');
    sql(home, STATE, 'delete from threads where id in (?, ?)', p1.id, p9.id);
    sql(home, STATE, "update backfill_state set status = 'pending', updated_at = 0 where id = 1");
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual([
      expect.stringMatching(/^warning backfill-incomplete state_5\.sqlite: backfill is pending/),
      expect.stringMatching(/^warning file-not-indexed 2 files: .*not indexed yet/),
    ]);
    await expectRepaired(home, [{ kind: 'backfill-incomplete' }, { kind: 'file-not-indexed' }]);
    expect(query(home, STATE, 'select status from backfill_state')).toEqual([
      { status: 'complete' },
    ]);
    expect(
      query(home, STATE, 'select count(*) as n from threads where id in (?, ?)', p1.id, p9.id),
    ).toEqual([{ n: 2 }]);
  });

  it('an integrity failure is reported and left alone', async () => {
    const { home } = recordedHome();
    // Digits changed inside an index's entries: the b-tree stays well formed (quick_check
    // passes, Codex and Skein still open the DB), but its keys no longer match the rows.
    const file = join(home, STATE);
    const db = new Database(file, { readonly: true });
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const { rootpage } = db
      .prepare(
        `select rootpage from sqlite_master where type = 'index' and tbl_name = 'threads'
           and sql like '%updated_at_ms%' limit 1`,
      )
      .get() as { rootpage: number };
    db.close();
    const bytes = readFileSync(file);
    const pageEnd = rootpage * pageSize;
    for (let i = pageEnd - 400; i < pageEnd; i += 1) {
      const c = bytes[i]!;
      if (c >= 0x30 && c <= 0x39) bytes[i] = c === 0x39 ? 0x30 : c + 1;
    }
    writeFileSync(file, bytes);
    const repair = await repairHome({ codexHome: home });
    expect(brief(repair.findings)).toEqual([
      expect.stringMatching(/^error state-db-integrity state_5\.sqlite: integrity_check: /),
    ]);
    expect(repair.findings[0]).toMatchObject({ fix: null, repaired: false });
    expect(brief(repair.after.findings)).toEqual(brief(repair.findings));
  });

  it('an obsolete skein_state_1.sqlite is pointed out, and kept', async () => {
    const { home } = recordedHome();
    const old = join(home, 'skein_state_1.sqlite');
    new Database(old).close();
    const repair = await repairHome({ codexHome: home });
    expect(brief(repair.after.findings)).toEqual([
      expect.stringMatching(/^info obsolete-skein-db skein_state_1\.sqlite: .*safe to delete/),
    ]);
    expect(existsSync(old)).toBe(true);
  });

  it('a DB of an unknown Codex is read, never written: one informational finding', async () => {
    const { home } = recordedHome();
    sql(home, STATE, 'delete from _sqlx_migrations where version = 40');
    const before = readFileSync(join(home, STATE));
    const repair = await repairHome({ codexHome: home });
    expect(brief(repair.after.findings)).toEqual([
      expect.stringMatching(/^info state-db-read-only state_5\.sqlite: .*unknown/),
    ]);
    expect(readFileSync(join(home, STATE)).equals(before)).toBe(true);
  });
});
