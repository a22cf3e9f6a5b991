import {
  appendFileSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { diagnoseHome, repairHome } from '../src/index.js';
import { brief, expectRepaired, query, recordedHome, sql } from './doctor-helpers.js';

const HISTORY = 'thread_history_1.sqlite';

interface StateRow {
  next_rollout_byte_offset: number;
  next_rollout_ordinal: number;
}

const stateOf = (home: string, id: string) =>
  query<StateRow>(
    home,
    HISTORY,
    'select next_rollout_byte_offset, next_rollout_ordinal from thread_history_projection_state where thread_id = ?',
    id,
  )[0];

/** The projected rows of a thread, as comparable keys (turns and items with their ordinals). */
const rowsOf = (home: string, id: string) => ({
  turns: query<{ turn_id: string; rollout_ordinal: number; status: string }>(
    home,
    HISTORY,
    'select turn_id, rollout_ordinal, status, rollout_end_ordinal from thread_turns where thread_id = ? order by rollout_ordinal',
    id,
  ),
  items: query<{ item_id: string; rollout_ordinal: number; item_type: string }>(
    home,
    HISTORY,
    'select item_id, rollout_ordinal, item_type from thread_items where thread_id = ? order by rollout_ordinal',
    id,
  ),
});

/**
 * Appends a copy of the file's last turn (new turn and item ids, ordinals continuing) as a
 * writer that does not project would: the lines land, the projection does not move.
 */
function appendUnprojectedTurn(file: string): { turnId: string; lines: number } {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const payloadType = (j: Record<string, unknown>) => (j.payload as { type?: string }).type;
  const start = parsed.findLastIndex((j) => payloadType(j) === 'task_started');
  const end = parsed.findLastIndex((j) => payloadType(j) === 'task_complete');
  const oldTurn = (parsed[start]!.payload as { turn_id: string }).turn_id;
  const newTurn = `${oldTurn.slice(0, -4)}beef`;
  let ordinal = Math.max(...parsed.map((j) => Number(j.ordinal ?? -1)));
  const out: string[] = [];
  for (const line of lines.slice(start, end + 1)) {
    const j = JSON.parse(line.replaceAll(oldTurn, newTurn)) as Record<string, unknown>;
    const payload = j.payload as { type?: string; item?: { id: string } };
    if (payload.type === 'item_completed' && payload.item) payload.item.id += '-again';
    ordinal += 1;
    j.ordinal = ordinal;
    out.push(JSON.stringify(j));
  }
  appendFileSync(file, `${out.join('\n')}\n`);
  return { turnId: newTurn, lines: out.length };
}

describe('doctor: the paginated projection', () => {
  it('lines appended without projecting them are projected as a Codex writer does on open', async () => {
    const { home, thread } = recordedHome();
    const p2 = thread('P2');
    const before = rowsOf(home, p2.id);
    const { turnId } = appendUnprojectedTurn(p2.file!);
    await expectRepaired(home, [{ kind: 'projection-behind', subject: p2.id }]);
    const after = rowsOf(home, p2.id);
    expect(after.turns.slice(0, before.turns.length)).toEqual(before.turns);
    expect(after.turns.at(-1)).toMatchObject({ turn_id: turnId, status: 'completed' });
    expect(after.items.length).toBe(before.items.length * 2);
    const size = readFileSync(p2.file!).length;
    expect(stateOf(home, p2.id)?.next_rollout_byte_offset).toBe(size);
  });

  it('a deleted projection is rebuilt with the rows Codex wrote', async () => {
    const { home, thread } = recordedHome();
    const ids = [thread('P1').id, thread('F1').id, thread('P7').id];
    const codexRows = ids.map((id) => ({ rows: rowsOf(home, id), state: stateOf(home, id) }));
    for (const id of ids) {
      for (const table of ['thread_items', 'thread_turns', 'thread_history_projection_state']) {
        sql(home, HISTORY, `delete from ${table} where thread_id = ?`, id);
      }
    }
    await expectRepaired(
      home,
      ids.map((id) => ({ kind: 'projection-missing', subject: id })),
    );
    expect(ids.map((id) => ({ rows: rowsOf(home, id), state: stateOf(home, id) }))).toEqual(
      codexRows,
    );
  });

  it('a deleted turn row, with the state still in step, is rebuilt', async () => {
    const { home, thread } = recordedHome();
    const p7 = thread('P7'); // 32 turns
    const codexRows = rowsOf(home, p7.id);
    sql(
      home,
      HISTORY,
      'delete from thread_turns where thread_id = ? and rollout_ordinal = ?',
      p7.id,
      codexRows.turns[3]!.rollout_ordinal,
    );
    sql(home, HISTORY, 'delete from thread_items where thread_id = ? and rowid % 5 = 0', p7.id);
    await expectRepaired(home, [{ kind: 'projection-rows-missing', subject: p7.id }]);
    expect(rowsOf(home, p7.id)).toEqual(codexRows);
  });

  it('a projection ahead of its rollout is brought back to the file', async () => {
    const { home, thread } = recordedHome();
    const p5 = thread('P5');
    const codex = stateOf(home, p5.id)!;
    const codexRows = rowsOf(home, p5.id);
    sql(
      home,
      HISTORY,
      `update thread_history_projection_state set next_rollout_byte_offset = ?,
         next_rollout_ordinal = ? where thread_id = ?`,
      codex.next_rollout_byte_offset + 4096,
      codex.next_rollout_ordinal + 7,
      p5.id,
    );
    await expectRepaired(home, [{ kind: 'projection-ahead', subject: p5.id }]);
    expect(stateOf(home, p5.id)).toEqual(codex);
    expect(rowsOf(home, p5.id)).toEqual(codexRows);
  });

  it('a missing history DB is recreated from the recorded schema and every paginated rollout projected', async () => {
    const { home, thread } = recordedHome();
    const p1 = thread('P1');
    const codexRows = rowsOf(home, p1.id);
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(home, HISTORY + suffix), { force: true });
    const diagnosis = await diagnoseHome({ codexHome: home });
    const missing = diagnosis.findings.filter((f) => f.kind === 'projection-missing');
    expect(missing.length).toBeGreaterThan(15);
    await expectRepaired(home, [{ kind: 'projection-missing', subject: p1.id }]);
    expect(rowsOf(home, p1.id)).toEqual(codexRows);
  });

  it('a damaged history DB is kept in db-backups/ and every paginated rollout projected afresh', async () => {
    const { home, thread } = recordedHome();
    const ids = [thread('P1').id, thread('P7').id, thread('F1').id];
    const codexRows = ids.map((id) => ({ rows: rowsOf(home, id), state: stateOf(home, id) }));
    for (const suffix of ['-wal', '-shm']) rmSync(join(home, HISTORY + suffix), { force: true });
    const damaged = Buffer.from('not a database '.repeat(400));
    writeFileSync(join(home, HISTORY), damaged);
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(diagnosis.findings.find((f) => f.kind === 'projection-missing')?.message).toContain(
      'Codex reads no turns: the DB cannot be read',
    );
    await expectRepaired(home, [
      { kind: 'history-db-corrupt', subject: HISTORY },
      ...ids.map((id) => ({ kind: 'projection-missing', subject: id })),
    ]);
    expect(ids.map((id) => ({ rows: rowsOf(home, id), state: stateOf(home, id) }))).toEqual(
      codexRows,
    );
    const backups = readdirSync(join(home, 'db-backups'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(home, 'db-backups', backups[0] as string, HISTORY))).toEqual(damaged);
  });

  it('a projection with no thread behind it is removed', async () => {
    const { home } = recordedHome();
    const ghost = '01a24bff-0000-7000-8000-00000000beef';
    sql(home, HISTORY, 'insert into thread_history_projection_state values (?, 100, 3)', ghost);
    await expectRepaired(home, [{ kind: 'projection-orphan', subject: ghost }]);
    expect(stateOf(home, ghost)).toBeUndefined();
  });
});

describe('doctor: forks by reference', () => {
  it('a fork whose source rollout is gone is reported; nothing but the source repairs it', async () => {
    const { home, thread } = recordedHome();
    const p3 = thread('P3');
    const f1 = thread('F1');
    const away = join(makeTempDir('skein-doctor-away-'), 'source.jsonl');
    renameSync(p3.file!, away);
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^error fork-source-missing ${f1.id}:`)),
        expect.stringMatching(new RegExp(`^error row-file-missing ${p3.id}:`)),
      ]),
    );
    const repair = await repairHome({ codexHome: home });
    // The source's row stays: forks read through it (Codex refuses to delete such a thread).
    for (const kind of ['fork-source-missing', 'row-file-missing']) {
      expect(repair.findings.find((f) => f.kind === kind)).toMatchObject({
        fix: null,
        repaired: false,
      });
    }
    expect(brief(repair.after.findings)).toEqual(brief(diagnosis.findings));
    renameSync(away, p3.file!);
    expect(brief((await diagnoseHome({ codexHome: home })).findings)).toEqual([]);
  });

  it('a fork whose source is shorter than its base offset is reported', async () => {
    const { home, thread } = recordedHome();
    const p11 = thread('P11');
    const f6 = thread('F6');
    const size = readFileSync(p11.file!).length;
    truncateSync(p11.file!, size - 400);
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^error fork-source-short ${f6.id}:`)),
      ]),
    );
    const repair = await repairHome({ codexHome: home });
    expect(brief(repair.after.findings)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^error fork-source-short ${f6.id}:`)),
      ]),
    );
    expect(repair.after.findings.some((f) => f.kind === 'projection-ahead')).toBe(false);
  });
});
