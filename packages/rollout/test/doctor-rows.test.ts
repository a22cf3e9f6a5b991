import { copyFileSync, cpSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { diagnoseHome, repairHome } from '../src/index.js';
import {
  brief,
  expectRepaired,
  installHome,
  query,
  recordedHome,
  rolloutBytes,
  sql,
} from './doctor-helpers.js';

const STATE = 'state_5.sqlite';
const HISTORY = 'thread_history_1.sqlite';

interface PathRow {
  id: string;
  rollout_path: string;
  archived: number;
}

const rowOf = (home: string, id: string) =>
  query<PathRow>(home, STATE, 'select id, rollout_path, archived from threads where id = ?', id)[0];

describe('doctor: rows against files', () => {
  it('a row pointing at a moved file is re-pointed at it', async () => {
    const { home, thread } = recordedHome();
    const p2 = thread('P2');
    const moved = join(home, 'sessions', '2026', '01', '02', basename(p2.file!));
    mkdirSync(join(moved, '..'), { recursive: true });
    renameSync(p2.file!, moved);
    await expectRepaired(home, [{ kind: 'row-file-moved', subject: p2.id }]);
    expect(rowOf(home, p2.id)).toMatchObject({ rollout_path: moved, archived: 0 });
  });

  it('a file moved into archived_sessions/ by hand: re-pointed, and archived as its folder says', async () => {
    const { home, thread } = recordedHome();
    const p9 = thread('P9');
    const moved = join(home, 'archived_sessions', basename(p9.file!));
    renameSync(p9.file!, moved);
    await expectRepaired(home, [{ kind: 'row-file-moved', subject: p9.id }]);
    expect(rowOf(home, p9.id)).toMatchObject({ rollout_path: moved, archived: 1 });
  });

  it('a row whose transcript is gone is dropped with its projection', async () => {
    const { home, thread } = recordedHome();
    const p9 = thread('P9');
    unlinkSync(p9.file!);
    await expectRepaired(home, [{ kind: 'row-file-missing', subject: p9.id }]);
    expect(rowOf(home, p9.id)).toBeUndefined();
    const projected = query(
      home,
      HISTORY,
      'select thread_id from thread_history_projection_state where thread_id = ?',
      p9.id,
    );
    expect(projected).toEqual([]);
  });

  it('a row with no rollout that Codex made before any message is not drift', async () => {
    const { home, thread } = recordedHome();
    const n3 = thread('N3');
    expect(n3.file).toBeNull();
    expect(rowOf(home, n3.id)).toBeDefined();
    expect(brief((await diagnoseHome({ codexHome: home })).findings)).toEqual([]);
  });

  it('a file no row indexes is indexed as the backfill does (its name too)', async () => {
    const { home, thread } = recordedHome();
    const p1 = thread('P1'); // paginated, renamed
    const l3 = thread('L3'); // legacy
    sql(home, STATE, 'delete from threads where id in (?, ?)', p1.id, l3.id);
    await expectRepaired(home, [
      { kind: 'file-not-indexed', subject: `sessions/2026/12/07/${basename(p1.file!)}` },
      { kind: 'file-not-indexed', subject: `sessions/2026/12/07/${basename(l3.file!)}` },
    ]);
    const rows = query<{ id: string; name: string | null; history_mode: string }>(
      home,
      STATE,
      'select id, name, history_mode from threads where id in (?, ?) order by id',
      p1.id,
      l3.id,
    );
    expect(rows).toEqual([
      { id: p1.id, name: 'Alpha launch plan (final)', history_mode: 'paginated' },
      { id: l3.id, name: null, history_mode: 'legacy' },
    ]);
  });

  it('an archived flag that disagrees with the folder follows the folder', async () => {
    const { home, thread } = recordedHome();
    const p5 = thread('P5');
    const p10 = thread('P10'); // archived
    sql(home, STATE, 'update threads set archived = 1, archived_at = 1 where id = ?', p5.id);
    sql(home, STATE, 'update threads set archived = 0, archived_at = null where id = ?', p10.id);
    await expectRepaired(home, [
      { kind: 'row-archived-mismatch', subject: p5.id },
      { kind: 'row-archived-mismatch', subject: p10.id },
    ]);
    expect(rowOf(home, p5.id)?.archived).toBe(0);
    expect(rowOf(home, p10.id)?.archived).toBe(1);
  });

  it('a row pointing at a file that holds another thread is re-pointed or dropped', async () => {
    const { home, thread } = recordedHome();
    // P6's file now holds P12's bytes; P12 keeps its own file too.
    const p6 = thread('P6');
    const p12 = thread('P12');
    copyFileSync(p12.file!, p6.file!);
    await expectRepaired(
      home,
      [{ kind: 'row-file-other-thread', subject: p6.id }],
      [
        { kind: 'duplicate-file', subject: p12.id },
        { kind: 'file-id-mismatch', subject: `sessions/2026/12/07/${basename(p6.file!)}` },
      ],
    );
    expect(rowOf(home, p6.id)).toBeUndefined();
    expect(rowOf(home, p12.id)?.rollout_path).toBe(p12.file);
  });

  it.each(['codex-0.169', 'recorded:codex-0.169.0', 'recorded:mixed-0.131.0-0.169.0'] as const)(
    'a copied home (%s): rows pointing outside it are re-pointed inside, the original untouched',
    async (name) => {
      const original = installHome(name);
      const copy = join(makeTempDir('skein-doctor-copy-'), 'home');
      cpSync(original, copy, { recursive: true, preserveTimestamps: true });
      const originalRows = query<PathRow>(original, STATE, 'select * from threads order by id');
      const originalBytes = rolloutBytes(original);
      const diagnosis = await diagnoseHome({ codexHome: copy });
      const outside = diagnosis.findings.filter((f) => f.kind === 'row-outside-home');
      expect(outside).toHaveLength(originalRows.length);
      expect(outside.every((f) => f.target?.startsWith(`${copy}/`))).toBe(true);
      await expectRepaired(copy, [{ kind: 'row-outside-home' }]);
      for (const row of query<PathRow>(copy, STATE, 'select * from threads')) {
        expect(row.rollout_path.startsWith(`${copy}/`)).toBe(true);
      }
      expect(query<PathRow>(original, STATE, 'select * from threads order by id')).toEqual(
        originalRows,
      );
      expect(rolloutBytes(original)).toEqual(originalBytes);
    },
  );

  it('a copied home missing a file drops that row instead of reading the original', async () => {
    const original = installHome('codex-0.131');
    const copy = join(makeTempDir('skein-doctor-copy-'), 'home');
    cpSync(original, copy, { recursive: true, preserveTimestamps: true });
    const victim = query<PathRow>(
      copy,
      STATE,
      "select * from threads where archived = 0 and preview <> '' limit 1",
    )[0]!;
    unlinkSync(victim.rollout_path.replace(original, copy));
    const repair = await repairHome({ codexHome: copy });
    const finding = repair.findings.find((f) => f.subject === victim.id);
    expect(finding).toMatchObject({
      kind: 'row-outside-home',
      repaired: true,
      fix: expect.stringMatching(/remove the row/),
    });
    expect(rowOf(copy, victim.id)).toBeUndefined();
    expect(rowOf(original, victim.id)).toBeDefined();
  });
});
