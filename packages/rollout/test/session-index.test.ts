import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  appendSessionIndexEntry,
  findThreadIdByName,
  findThreadNameById,
  findThreadNamesByIds,
  removeSessionIndexEntries,
  sessionIndexLockPath,
  sessionIndexPath,
  withSessionIndexLock,
} from '../src/index.js';
import {
  rolloutDistScript,
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
    // Written directly (the reader is under test), in the writer's line format, with CRLF.
    const line = (id: string, name: string) =>
      `${JSON.stringify({ id, thread_name: name, updated_at: '2026-01-01T00:00:00.000000000Z' })}\r\n`;
    const others = Array.from({ length: 300 }, (_, i) => line(THREAD_B, `b${i}`));
    writeFileSync(sessionIndexPath(home), line(THREAD_A, `${long}A`) + others.join(''));
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
    const script = rolloutDistScript(
      'appender.mjs',
      ['appendSessionIndexEntry'],
      `const [home, id, tag] = process.argv.slice(2);
const filler = tag.repeat(6000);
for (let i = 0; i < 40; i += 1) await appendSessionIndexEntry(home, id, tag + i + filler);
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
    expect(lines).toHaveLength(80);
    for (const line of lines) {
      const entry = JSON.parse(line) as { id: string; thread_name: string };
      const tag = entry.id === THREAD_A ? 'a' : 'b';
      expect(entry.thread_name).toMatch(new RegExp(`^${tag}\\d+${tag}{6000}$`));
    }
    expect(await findThreadNameById(home, THREAD_A)).toMatch(/^a39a/);
  });
});

/** A real process holding Codex's session-index lock (`flock(LOCK_EX)`) until it is killed. */
async function holdIndexLock(home: string): Promise<ChildProcess> {
  const holder = spawn(
    'flock',
    [
      '--exclusive',
      '--no-fork',
      sessionIndexLockPath(home),
      '--command',
      'echo held; exec sleep 30',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return holder;
}

describe('session index lock (Codex 0.169 session_index.jsonl.lock)', () => {
  it('waits while another process holds the lock, then appends', async () => {
    const home = makeTempDir();
    const holder = await holdIndexLock(home);
    const events: string[] = [];
    const appended = appendSessionIndexEntry(home, THREAD_A, 'after the holder').then(() => {
      events.push('appended');
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(sessionIndexPath(home))).toBe(false);
    events.push('released');
    holder.kill();
    await appended;
    expect(events).toEqual(['released', 'appended']);
    expect(await findThreadNameById(home, THREAD_A)).toBe('after the holder');
  });

  it('fails clearly when the lock stays held past the timeout, and writes nothing', async () => {
    const home = makeTempDir();
    await appendSessionIndexEntry(home, THREAD_A, 'kept');
    const before = readFileSync(sessionIndexPath(home), 'utf8');
    const holder = await holdIndexLock(home);
    try {
      await expect(
        appendSessionIndexEntry(home, THREAD_B, 'never', undefined, { timeoutMs: 200 }),
      ).rejects.toThrow(/timed out after 200 ms waiting for the session index lock/);
      await expect(removeSessionIndexEntries(home, THREAD_A, { timeoutMs: 200 })).rejects.toThrow(
        /session index lock/,
      );
      let ran = false;
      await expect(
        withSessionIndexLock(
          home,
          async () => {
            ran = true;
          },
          { timeoutMs: 200 },
        ),
      ).rejects.toThrow(/session index lock/);
      expect(ran).toBe(false);
    } finally {
      holder.kill();
    }
    expect(readFileSync(sessionIndexPath(home), 'utf8')).toBe(before);
  });

  it('a holder killed with SIGKILL leaves the lock free', async () => {
    const home = makeTempDir();
    const script = rolloutDistScript(
      'holder.mjs',
      ['withSessionIndexLock'],
      `await withSessionIndexLock(process.argv[2], async () => {
  process.stdout.write('held\\n');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
});
`,
    );
    const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    await expect(
      appendSessionIndexEntry(home, THREAD_A, 'blocked', undefined, { timeoutMs: 200 }),
    ).rejects.toThrow(/session index lock/);
    child.kill('SIGKILL');
    await closed;
    await appendSessionIndexEntry(home, THREAD_A, 'after the crash', undefined, {
      timeoutMs: 5_000,
    });
    expect(await findThreadNameById(home, THREAD_A)).toBe('after the crash');
  });

  it('a rewrite never drops a name another process appends meanwhile', async () => {
    const home = makeTempDir();
    const script = rolloutDistScript(
      'namer.mjs',
      ['appendSessionIndexEntry'],
      `const [home, id] = process.argv.slice(2);
for (let i = 0; i < 40; i += 1) {
  await appendSessionIndexEntry(home, id, 'name ' + i);
  if (i === 0) process.stdout.write('appending\\n');
  await new Promise((resolve) => setTimeout(resolve, 5)); // spread over the rewrites
}
`,
    );
    const child = spawn(process.execPath, [script, home, THREAD_A], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let appenderDone = false;
    void closed.then(() => {
      appenderDone = true;
    });
    await new Promise<void>((resolve) => {
      child.stdout?.once('data', () => resolve());
      void closed.then(() => resolve());
    });
    // Delete-style rewrites of another thread's lines while the appender runs.
    let rounds = 0;
    for (; rounds < 2000 && !appenderDone; rounds += 1) {
      await appendSessionIndexEntry(home, THREAD_B, `doomed ${rounds}`);
      expect(await removeSessionIndexEntries(home, THREAD_B)).toBe(1);
    }
    expect(await closed).toBe(0);
    expect(rounds).toBeGreaterThan(0);
    const names = readFileSync(sessionIndexPath(home), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: string; thread_name: string });
    expect(names.filter((entry) => entry.id === THREAD_B)).toEqual([]);
    expect(names.map((entry) => entry.thread_name)).toEqual(
      Array.from({ length: 40 }, (_, i) => `name ${i}`),
    );
  });
});

describe('session index names stay current without rereading the file', () => {
  const line = (id: string, name: string) =>
    `${JSON.stringify({ id, thread_name: name, updated_at: '2026-01-01T00:00:00Z' })}\n`;
  it('sees appends, a half-written line only once complete, and a rewritten file', async () => {
    const home = makeTempDir();
    const index = join(home, 'session_index.jsonl');
    writeFileSync(index, line(THREAD_A, 'first'));
    expect(await findThreadNameById(home, THREAD_A)).toBe('first');
    // Another process appends (its line arrives in two writes).
    const next = line(THREAD_B, 'second');
    appendFileSync(index, next.slice(0, 20));
    expect(await findThreadNameById(home, THREAD_B)).toBeNull();
    appendFileSync(index, next.slice(20));
    expect(await findThreadNameById(home, THREAD_B)).toBe('second');
    appendFileSync(index, line(THREAD_A, 'renamed'));
    expect(await findThreadNamesByIds(home, [THREAD_A, THREAD_B])).toEqual(
      new Map([
        [THREAD_A, 'renamed'],
        [THREAD_B, 'second'],
      ]),
    );
    // A cleared name (blank latest line) is no name.
    appendFileSync(index, line(THREAD_B, ''));
    expect(await findThreadNameById(home, THREAD_B)).toBeNull();
    // A delete rewrites the file (new inode, shorter): read afresh.
    writeFileSync(`${index}.tmp`, line(THREAD_B, 'only'));
    renameSync(`${index}.tmp`, index);
    expect(await findThreadNameById(home, THREAD_A)).toBeNull();
    expect(await findThreadNameById(home, THREAD_B)).toBe('only');
  });
});
