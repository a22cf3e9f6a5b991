import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  appendSessionIndexEntry,
  findThreadIdByName,
  findThreadNameById,
  findThreadNamesByIds,
  removeSessionIndexEntries,
  sessionIndexPath,
} from '../src/index.js';
import {
  sessionMetaLine,
  THREAD_A,
  THREAD_B,
  userMessageLine,
  writeRolloutFile,
} from './helpers.js';

const THREAD_C = '33333333-3333-4333-8333-333333333333';

describe('session name index', () => {
  it('latest line wins by file order, by id, by ids and by name', async () => {
    const home = makeTempDir();
    await appendSessionIndexEntry(home, THREAD_A, 'first', '2030-01-01T00:00:00Z');
    await appendSessionIndexEntry(home, THREAD_B, 'shared');
    await appendSessionIndexEntry(home, THREAD_A, 'renamed', '2000-01-01T00:00:00Z');
    writeFileSync(
      sessionIndexPath(home),
      `${readFileSync(sessionIndexPath(home), 'utf8')}not json\n\n`,
    );
    await appendSessionIndexEntry(home, THREAD_C, 'shared');
    expect(await findThreadNameById(home, THREAD_A)).toBe('renamed');
    expect(await findThreadNameById(home, THREAD_B)).toBe('shared');
    expect(await findThreadNameById(home, '44444444-4444-4444-8444-444444444444')).toBeNull();
    const names = await findThreadNamesByIds(home, [THREAD_A, THREAD_B]);
    expect(Object.fromEntries(names)).toEqual({ [THREAD_A]: 'renamed', [THREAD_B]: 'shared' });
    // By default only threads with a saved rollout count: none exists yet.
    expect(await findThreadIdByName(home, 'shared')).toBeNull();
    expect(await findThreadIdByName(home, 'shared', () => true)).toBe(THREAD_C);
    expect(await findThreadIdByName(home, 'shared', (id) => id !== THREAD_C)).toBe(THREAD_B);
    expect(await findThreadIdByName(home, 'first', () => true)).toBeNull(); // historical name
    // THREAD_C's rollout is partial (no session_meta first), THREAD_B's is saved.
    const day = join(home, 'sessions', '2025', '01', '03');
    writeRolloutFile(join(day, `rollout-2025-01-03T12-00-00-${THREAD_C}.jsonl`), [
      userMessageLine('no meta'),
    ]);
    writeRolloutFile(join(day, `rollout-2025-01-03T12-00-01-${THREAD_B}.jsonl`), [
      sessionMetaLine(THREAD_B),
    ]);
    expect(await findThreadIdByName(home, 'shared')).toBe(THREAD_B);
    expect(await findThreadNameById(makeTempDir(), THREAD_A)).toBeNull();
  });

  it('reads backwards across chunk boundaries with long lines and CRLF', async () => {
    const home = makeTempDir();
    const long = 'n'.repeat(20_000);
    await appendSessionIndexEntry(home, THREAD_A, `${long}A`);
    for (let i = 0; i < 300; i += 1) await appendSessionIndexEntry(home, THREAD_B, `b${i}`);
    writeFileSync(
      sessionIndexPath(home),
      readFileSync(sessionIndexPath(home), 'utf8').replaceAll('\n', '\r\n'),
    );
    expect(await findThreadNameById(home, THREAD_A)).toBe(`${long}A`);
    expect(await findThreadNameById(home, THREAD_B)).toBe('b299');
  });

  it('removes one thread lines by rewriting the file', async () => {
    const home = makeTempDir();
    await appendSessionIndexEntry(home, THREAD_A, 'a1');
    await appendSessionIndexEntry(home, THREAD_B, 'b');
    await appendSessionIndexEntry(home, THREAD_A, 'a2');
    expect(await removeSessionIndexEntries(home, THREAD_A)).toBe(2);
    expect(await findThreadNameById(home, THREAD_A)).toBeNull();
    expect(await findThreadNameById(home, THREAD_B)).toBe('b');
    expect(readFileSync(sessionIndexPath(home), 'utf8').split('\n')).toHaveLength(2);
  });

  it('two processes appending at once never interleave within a line', async () => {
    const home = makeTempDir();
    const dist = join(repoRoot(), 'packages', 'rollout', 'dist', 'index.js');
    expect(existsSync(dist), 'build @skein/rollout first').toBe(true);
    const script = join(makeTempDir(), 'appender.mjs');
    writeFileSync(
      script,
      `import { appendSessionIndexEntrySync } from ${JSON.stringify(dist)};
const [home, id, tag] = process.argv.slice(2);
const filler = tag.repeat(6000);
for (let i = 0; i < 150; i += 1) appendSessionIndexEntrySync(home, id, tag + i + filler);
`,
    );
    const run = (id: string, tag: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [script, home, id, tag], { stdio: 'inherit' });
        child.on('close', resolve);
      });
    const codes = await Promise.all([run(THREAD_A, 'a'), run(THREAD_B, 'b')]);
    expect(codes).toEqual([0, 0]);
    const lines = readFileSync(sessionIndexPath(home), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(300);
    for (const line of lines) {
      const entry = JSON.parse(line) as { id: string; thread_name: string };
      const tag = entry.id === THREAD_A ? 'a' : 'b';
      expect(entry.thread_name).toMatch(new RegExp(`^${tag}\\d+${tag}{6000}$`));
    }
    expect(await findThreadNameById(home, THREAD_A)).toMatch(/^a149a/);
  });
});
