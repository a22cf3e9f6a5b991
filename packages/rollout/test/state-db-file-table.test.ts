import { mkdirSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { collectRolloutFiles, collectRolloutFileTable } from '../src/state-db/files.js';

const NAME_A = 'rollout-2025-03-01T10-00-00-0195a000-0000-7000-8000-00000000000a.jsonl';
const NAME_B = 'rollout-2025-03-01T11-00-00-0195a000-0000-7000-8000-00000000000b.jsonl';
const NAME_C = 'rollout-2025-03-02T09-00-00-0195a000-0000-7000-8000-00000000000c.jsonl';

function writeHome(): string {
  const home = makeTempDir('skein-file-table-');
  const day1 = join(home, 'sessions', '2025', '03', '01');
  const day1Extra = join(home, 'sessions', '2025', '03', '01-extra');
  const archived = join(home, 'archived_sessions');
  for (const dir of [day1, day1Extra, archived]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(day1, NAME_B), '{}\n');
  writeFileSync(join(day1, `${NAME_B}.zst`), 'shadowed by the plain file');
  writeFileSync(join(day1, `${NAME_A}.zst`), 'only compressed, 28 bytes..');
  writeFileSync(join(day1Extra, NAME_C), '{}\n{}\n');
  writeFileSync(join(archived, NAME_C), '{}\n');
  writeFileSync(join(day1, 'notes.txt'), 'not a rollout');
  return home;
}

describe('the packed rollout file table', () => {
  it('lists what the file walk finds, in watermark order, with paths, flags and sizes', () => {
    const home = writeHome();
    const table = collectRolloutFileTable(home, true);
    const watermarks = Array.from({ length: table.length }, (_, i) => table.watermark(i));
    // `01-extra/` sorts before `01/` ('-' < '/'), as plain string order has it.
    expect(watermarks).toEqual([
      `archived_sessions/${NAME_C}`,
      `sessions/2025/03/01-extra/${NAME_C}`,
      `sessions/2025/03/01/${NAME_A}`,
      `sessions/2025/03/01/${NAME_B}`,
    ]);
    expect([...watermarks].sort()).toEqual(watermarks);
    const compressedOnly = 2;
    expect(table.rolloutPath(compressedOnly)).toBe(
      join(home, 'sessions', '2025', '03', '01', NAME_A),
    );
    expect(table.path(compressedOnly)).toBe(`${table.rolloutPath(compressedOnly)}.zst`);
    expect(table.path(3)).toBe(join(home, 'sessions', '2025', '03', '01', NAME_B));
    expect(table.path(3).startsWith(`${home}${sep}`)).toBe(true);
    expect(table.archived(0)).toBe(true);
    expect(table.archived(1)).toBe(false);
    expect(table.size(compressedOnly)).toBe(27);
    expect(table.size(1)).toBe(6);
    expect(table.bytesBetween(0, table.length)).toBe(3 + 6 + 27 + 3);

    // The object list other readers use says the same.
    const files = collectRolloutFiles(home, true);
    expect(files.map((file) => file.watermark)).toEqual(watermarks);
    expect(files[compressedOnly]).toEqual({
      path: table.path(compressedOnly),
      rolloutPath: table.rolloutPath(compressedOnly),
      watermark: watermarks[compressedOnly],
      archived: false,
      size: 27,
    });
  });

  it('finds where a resume starts: the first file after the watermark', () => {
    const table = collectRolloutFileTable(writeHome());
    const watermarks = Array.from({ length: table.length }, (_, i) => table.watermark(i));
    for (let i = 0; i < watermarks.length; i += 1) {
      expect(table.firstAfter(watermarks[i] as string)).toBe(i + 1);
    }
    expect(table.firstAfter('')).toBe(0);
    expect(table.firstAfter('archived_sessions/')).toBe(0);
    // A watermark of a file that is gone since: the files after it remain.
    expect(table.firstAfter(`sessions/2025/03/01/${NAME_A.replace('10-00', '10-30')}`)).toBe(3);
    expect(table.firstAfter('zzz')).toBe(table.length);
  });

  it('holds an empty home', () => {
    const table = collectRolloutFileTable(makeTempDir('skein-file-table-empty-'));
    expect(table.length).toBe(0);
    expect(table.firstAfter('sessions/')).toBe(0);
  });
});
