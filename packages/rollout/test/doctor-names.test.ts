import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseHome, readSessionIndexNames } from '../src/index.js';
import { brief, expectRepaired, query, recordedHome, sql } from './doctor-helpers.js';

const STATE = 'state_5.sqlite';

/** Appends a name line as another process would (no DB write). */
function appendIndexName(home: string, id: string, name: string): void {
  appendFileSync(
    join(home, 'session_index.jsonl'),
    `${JSON.stringify({ id, thread_name: name, updated_at: '2026-12-08T00:00:00.000000000Z' })}\n`,
  );
}

/** `name` (null in a 0.131 DB, which has no such column) and `title` of a row. */
const namesRow = (home: string, id: string) => {
  const columns = query<{ name: string }>(home, STATE, 'pragma table_info(threads)');
  const name = columns.some((c) => c.name === 'name') ? 'name' : 'null as name';
  return query<{ name: string | null; title: string }>(
    home,
    STATE,
    `select ${name}, title from threads where id = ?`,
    id,
  )[0];
};

describe('doctor: names in session_index.jsonl and the DB', () => {
  it('a paginated thread named in the index only gets threads.name, as a rename writes it', async () => {
    const { home, thread } = recordedHome();
    const p9 = thread('P9');
    appendIndexName(home, p9.id, 'Vendors, compared');
    await expectRepaired(home, [{ kind: 'name-missing-in-db', subject: p9.id }]);
    expect(namesRow(home, p9.id)?.name).toBe('Vendors, compared');
  });

  it('a name in threads.name only is appended to the index', async () => {
    const { home, thread } = recordedHome();
    const p2 = thread('P2');
    sql(home, STATE, 'update threads set name = ? where id = ?', 'Kiwi logs', p2.id);
    const indexBefore = readFileSync(join(home, 'session_index.jsonl'), 'utf8');
    await expectRepaired(home, [{ kind: 'name-missing-in-index', subject: p2.id }]);
    const index = readFileSync(join(home, 'session_index.jsonl'), 'utf8');
    expect(index.startsWith(indexBefore)).toBe(true);
    expect((await readSessionIndexNames(home)).get(p2.id as never)).toBe('Kiwi logs');
  });

  it('a legacy rename held in title only is appended to the index', async () => {
    const { home, thread } = recordedHome('codex-0.131.0');
    const l3 = thread('L3');
    sql(home, STATE, 'update threads set title = ? where id = ?', 'Kiwi inventory', l3.id);
    await expectRepaired(home, [{ kind: 'name-missing-in-index', subject: l3.id }]);
    expect((await readSessionIndexNames(home)).get(l3.id as never)).toBe('Kiwi inventory');
  });

  it('names that disagree: the index’s latest line is written into the DB', async () => {
    const { home, thread } = recordedHome();
    const p1 = thread('P1'); // paginated: threads.name
    const l1 = thread('L1'); // legacy in a 0.169 DB: title
    sql(home, STATE, 'update threads set name = ? where id = ?', 'Stale name', p1.id);
    sql(home, STATE, 'update threads set title = ? where id = ?', 'Stale title', l1.id);
    await expectRepaired(home, [
      { kind: 'name-mismatch', subject: p1.id },
      { kind: 'name-mismatch', subject: l1.id },
    ]);
    expect(namesRow(home, p1.id)?.name).toBe('Alpha launch plan (final)');
    expect(namesRow(home, l1.id)).toEqual({ name: null, title: 'Legacy beta notes (day two)' });
  });

  it('a legacy thread named in the index only is how Codex leaves it: no finding', async () => {
    // Codex 0.131's git update resets a renamed legacy thread's title; readers take the index.
    const { home, thread } = recordedHome('codex-0.131.0');
    const p10 = thread('P10');
    expect(namesRow(home, p10.id)?.title).not.toBe('Zebra cache experiment');
    const l3 = thread('L3');
    appendIndexName(home, l3.id, 'Named elsewhere');
    expect(brief((await diagnoseHome({ codexHome: home })).findings)).toEqual([]);
  });

  it('a name for a thread the home does not have is a warning, kept', async () => {
    const { home } = recordedHome();
    const ghost = '01a24bff-0000-7000-8000-00000000cafe';
    appendIndexName(home, ghost, 'ghost');
    const findings = (await diagnoseHome({ codexHome: home })).findings;
    expect(brief(findings)).toEqual([
      expect.stringMatching(`^warning name-unknown-thread ${ghost}:`),
    ]);
    expect(findings[0]?.fix).toBeNull();
  });

  it('on a read-only (newer) DB the index side is still repaired, the DB side is not', async () => {
    const { home, thread } = recordedHome();
    const p2 = thread('P2');
    const p9 = thread('P9');
    sql(home, STATE, 'update threads set name = ? where id = ?', 'Kiwi logs', p2.id);
    appendIndexName(home, p9.id, 'Vendors, compared');
    sql(
      home,
      STATE,
      `insert into _sqlx_migrations (version, description, success, checksum, execution_time)
         values (9999, 'from the future', 1, x'00', 0)`,
    );
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^info state-db-read-only state_5\.sqlite: .*newer than Codex 0\.169\.0/,
        ),
        expect.stringMatching(`^error name-missing-in-index ${p2.id}:`),
        expect.stringMatching(`^error name-missing-in-db ${p9.id}:`),
      ]),
    );
    expect(diagnosis.findings.find((f) => f.kind === 'name-missing-in-db')?.fix).toBeNull();
    await expectRepaired(
      home,
      [{ kind: 'name-missing-in-index', subject: p2.id }],
      [{ kind: 'state-db-read-only' }, { kind: 'name-missing-in-db', subject: p9.id }],
    );
    expect(namesRow(home, p9.id)?.name).toBeNull();
  });
});
