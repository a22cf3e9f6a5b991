import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  archivedPathFor,
  formatRolloutFileName,
  parseFileTimestamp,
  parseRolloutFileName,
  rolloutPathFor,
  rolloutPathInHome,
  unarchivedPathFor,
} from '../src/index.js';
import { HomeBoundary } from '../src/layout.js';
import { THREAD_A, THREAD_B } from './helpers.js';

describe('home layout', () => {
  it('names rollout files in local time under sessions/YYYY/MM/DD', () => {
    const created = new Date(2026, 10, 2, 7, 5, 9, 123); // local time
    const path = rolloutPathFor('/h', THREAD_A, created);
    expect(path).toBe(`/h/sessions/2026/11/02/rollout-2026-11-02T07-05-09-${THREAD_A}.jsonl`);
    expect(formatRolloutFileName(THREAD_A, created)).toBe(
      `rollout-2026-11-02T07-05-09-${THREAD_A}.jsonl`,
    );
  });

  it('parses file names, .zst siblings and revert suffixes; rejects others', () => {
    const parsed = parseRolloutFileName(`rollout-2025-01-03T12-00-00-${THREAD_A}.jsonl`);
    expect(parsed).toMatchObject({
      threadId: THREAD_A,
      timestamp: '2025-01-03T12-00-00',
      timestampMs: Date.UTC(2025, 0, 3, 12, 0, 0),
      compressed: false,
      rolloutId: null,
      dateParts: ['2025', '01', '03'],
    });
    expect(
      parseRolloutFileName(`rollout-2025-01-03T12-00-00-${THREAD_A}.jsonl.zst`)?.compressed,
    ).toBe(true);
    const revert = parseRolloutFileName(
      `rollout-2025-01-03T12-00-00-${THREAD_A}_${THREAD_B}.jsonl`,
    );
    expect(revert?.threadId).toBe(THREAD_A);
    expect(revert?.rolloutId).toBe(THREAD_B);
    expect(parseRolloutFileName(`rollout-2025-01-03T12-00-00-nope.jsonl`)).toBeNull();
    expect(parseRolloutFileName(`session-2025-01-03T12-00-00-${THREAD_A}.jsonl`)).toBeNull();
    expect(parseRolloutFileName(`rollout-2025-13-03T12-00-00-${THREAD_A}.jsonl`)).toBeNull();
    expect(parseRolloutFileName(`rollout-2025-01-03T12-00-00-${THREAD_A}.json`)).toBeNull();
    expect(parseFileTimestamp('2025-02-30T00-00-00')).toBeNull();
  });

  it('maps archive and unarchive paths', () => {
    const name = `rollout-2025-01-03T12-00-00-${THREAD_A}.jsonl`;
    expect(archivedPathFor('/h', `/h/sessions/2025/01/03/${name}`)).toBe(
      `/h/archived_sessions/${name}`,
    );
    expect(unarchivedPathFor('/h', name)).toBe(`/h/sessions/2025/01/03/${name}`);
  });
});

describe('rolloutPathInHome', () => {
  const home = '/h/new/.codex';
  it('keeps a path inside the home and re-roots one from another home', () => {
    const inside = `${home}/sessions/2026/01/02/rollout-x.jsonl`;
    expect(rolloutPathInHome(home, inside)).toBe(inside);
    expect(rolloutPathInHome(`${home}/`, inside)).toBe(inside);
    expect(rolloutPathInHome(home, '/old/.codex/sessions/2026/01/02/rollout-x.jsonl')).toBe(inside);
    expect(rolloutPathInHome(home, '/old/.codex/archived_sessions/rollout-x.jsonl')).toBe(
      `${home}/archived_sessions/rollout-x.jsonl`,
    );
    // The last `sessions/` wins (an old home that itself lived under a `sessions` folder).
    expect(
      rolloutPathInHome(home, '/srv/sessions/u/.codex/sessions/2026/01/02/rollout-x.jsonl'),
    ).toBe(inside);
  });

  it('refuses paths that name no place in the home', () => {
    expect(rolloutPathInHome(home, '/etc/passwd')).toBeNull();
    expect(rolloutPathInHome(home, `${home}/../elsewhere/sessions/../../x.jsonl`)).toBeNull();
    expect(rolloutPathInHome(home, '/old/.codex/sessions/../../etc/passwd')).toBeNull();
  });

  it('tells links on the way down from the home, at any depth', () => {
    const root = makeTempDir();
    try {
      const home = join(root, 'home');
      const file = (day: string) => `rollout-2026-01-${day}T03-04-05-${THREAD_A}.jsonl`;
      const write = (folder: string, day: string) => {
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, file(day)), '{}\n');
      };
      write(join(home, 'sessions/2026/01/02'), '02');
      // A month folder linked out of the home, and one linked to another folder inside it.
      write(join(root, 'outside/03'), '03');
      symlinkSync(join(root, 'outside'), join(home, 'sessions/2026/02'));
      write(join(home, 'elsewhere/04'), '04');
      symlinkSync(join(home, 'elsewhere'), join(home, 'sessions/2026/03'));
      // A file where a folder belongs.
      writeFileSync(join(home, 'sessions/2026/05'), 'not a folder');
      const boundary = new HomeBoundary(home);
      const verdicts = [
        ['sessions/2026/01/02', '02'],
        ['sessions/2026/02/03', '03'],
        ['sessions/2026/03/04', '04'],
        ['sessions/2026/04/05', '05'],
        ['sessions/2026/05/06', '06'],
      ].map(([folder, day]) => boundary.rolloutInside(join(home, folder!, file(day!))));
      expect(verdicts).toEqual([true, false, true, false, false]);
    } finally {
      removeTempDir(root);
    }
  });

  // Rollouts kept on another disk: the home's `sessions` (or `archived_sessions`) folder is a
  // link. Its files are the home's, as the folder walk already lists them; a link inside it
  // leading elsewhere still leads out.
  it('takes a linked sessions or archived_sessions folder for part of the home', () => {
    const root = makeTempDir();
    try {
      const home = join(root, 'home');
      const file = `rollout-2026-01-02T03-04-05-${THREAD_A}.jsonl`;
      mkdirSync(join(root, 'disk/sessions/2026/01/02'), { recursive: true });
      writeFileSync(join(root, 'disk/sessions/2026/01/02', file), '{}\n');
      mkdirSync(join(root, 'disk/archived'), { recursive: true });
      writeFileSync(join(root, 'disk/archived', file), '{}\n');
      mkdirSync(join(root, 'outside'), { recursive: true });
      writeFileSync(join(root, 'outside', file), '{}\n');
      mkdirSync(home);
      symlinkSync(join(root, 'disk/sessions'), join(home, 'sessions'));
      symlinkSync(join(root, 'disk/archived'), join(home, 'archived_sessions'));
      const other = `rollout-2026-01-02T03-04-06-${THREAD_B}.jsonl`;
      symlinkSync(join(root, 'outside', file), join(root, 'disk/sessions/2026/01/02', other));
      const boundary = new HomeBoundary(home);
      expect(boundary.rolloutInside(join(home, 'sessions/2026/01/02', file))).toBe(true);
      expect(boundary.rolloutInside(join(home, 'archived_sessions', file))).toBe(true);
      expect(boundary.rolloutInside(join(home, 'sessions/2026/01/02', other))).toBe(false);
    } finally {
      removeTempDir(root);
    }
  });

  it('resolves a linked home again when it was pointed elsewhere', () => {
    const root = makeTempDir();
    try {
      const day = 'sessions/2026/01/02';
      const file = `rollout-2026-01-02T03-04-05-${THREAD_A}.jsonl`;
      for (const target of ['a', 'b']) {
        mkdirSync(join(root, target, day), { recursive: true });
        writeFileSync(join(root, target, day, file), '{}\n');
      }
      const home = join(root, 'home');
      symlinkSync(join(root, 'a'), home);
      expect(new HomeBoundary(home).rolloutInside(join(home, day, file))).toBe(true);
      // The home now leads to b: a boundary made after that still offers its files, though
      // the home's real path it remembered (a) no longer holds them.
      rmSync(home);
      symlinkSync(join(root, 'b'), home);
      expect(new HomeBoundary(home).rolloutInside(join(home, day, file))).toBe(true);
      // And a link from b into a leads out of the home now.
      const other = `rollout-2026-01-02T03-04-06-${THREAD_B}.jsonl`;
      symlinkSync(join(root, 'a', day, file), join(root, 'b', day, other));
      expect(new HomeBoundary(home).rolloutInside(join(home, day, other))).toBe(false);
      // The same for a link met by a folder walk, with the home pointed back and forth.
      rmSync(home);
      symlinkSync(join(root, 'a'), home);
      expect(new HomeBoundary(home).linkInside(join(home, day, file))).toBe(true);
      rmSync(home);
      symlinkSync(join(root, 'b'), home);
      expect(new HomeBoundary(home).linkInside(join(home, day, other))).toBe(false);
    } finally {
      removeTempDir(root);
    }
  });
});
