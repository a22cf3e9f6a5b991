import { appendFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { findThreadPath, listThreadsFromFiles, readHeadSummary } from '../src/index.js';
import { sessionMetaLine, userMessageLine, writeRolloutFile } from './helpers.js';

/*
 * The listing reuses heads and directory listings it read before while the file or directory
 * is unchanged (same inode, size, mtime and ctime, old enough for its times to be trusted).
 * These tests change files and directories in ways that keep the size and the mtime, after the
 * first listing had time to trust them, and check that the next listing sees the change.
 */

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
/** Longer than the racy-stat margin on file systems with sub-second times (100 ms). */
const SETTLE_MS = 250;
/** A whole second long past, so an mtime put back to it is exactly the same. */
const OLD = 1_735_905_600;

function rolloutPath(home: string, n: number): string {
  return join(
    home,
    'sessions',
    '2025',
    '01',
    '03',
    `rollout-2025-01-03T12-00-0${n}-${uuid(n)}.jsonl`,
  );
}

function writeThread(
  home: string,
  n: number,
  message: string | null,
  meta: Record<string, unknown> = {},
): string {
  const path = rolloutPath(home, n);
  const lines: object[] = [sessionMetaLine(uuid(n), meta)];
  if (message !== null) lines.push(userMessageLine(message));
  writeRolloutFile(path, lines);
  return path;
}

const listed = async (home: string) =>
  (await listThreadsFromFiles(home, { pageSize: 10, allowedSources: [] })).items.map((item) => [
    item.threadId,
    item.preview,
  ]);

describe('listing caches', () => {
  it('answers from cached heads what it answered from the files', async () => {
    // The second listing builds its items from the cached heads without reading; a cwd that
    // matches only through a link, and a fork's preview inherited from its base, still take
    // the reading path. Both listings must agree, filter by filter.
    const home = makeTempDir();
    const real = makeTempDir();
    const link = join(makeTempDir(), 'link');
    symlinkSync(real, link);
    const paths = [
      writeThread(home, 1, 'through the link', { cwd: link }),
      writeThread(home, 2, 'elsewhere', { cwd: '/elsewhere', model_provider: 'other' }),
      writeThread(home, 3, null, { cwd: real, history_base: { thread_id: uuid(1) } }),
      writeThread(home, 4, 'an exec', { source: 'exec' }),
    ];
    for (const path of paths) utimesSync(path, OLD, OLD);
    await sleep(SETTLE_MS);
    const page = async (options: Partial<Parameters<typeof listThreadsFromFiles>[1]>) =>
      (await listThreadsFromFiles(home, { pageSize: 10, ...options })).items.map((item) => [
        item.threadId,
        item.preview,
        item.updatedAtMs,
      ]);
    const asks = [
      { allowedSources: [] },
      {},
      { allowedSources: [], modelProviders: ['other'] },
      { allowedSources: [], cwdFilters: [real] },
      { allowedSources: [], cwdFilters: ['/nowhere'] },
    ];
    const first = [];
    for (const ask of asks) first.push(await page(ask));
    expect(first[0]?.map(([id, preview]) => [id, preview])).toEqual([
      [uuid(4), 'an exec'],
      [uuid(3), 'through the link'],
      [uuid(2), 'elsewhere'],
      [uuid(1), 'through the link'],
    ]);
    expect(first[3]?.map(([id]) => id)).toEqual([uuid(3), uuid(1)]);
    expect(first[4]).toEqual([]);
    for (const [index, ask] of asks.entries()) expect(await page(ask)).toEqual(first[index]);
  });

  it('reads a head again when the file was rewritten in place with its size and mtime kept', async () => {
    const home = makeTempDir();
    const path = writeThread(home, 1, 'first message');
    utimesSync(path, OLD, OLD);
    await sleep(SETTLE_MS);
    expect(await listed(home)).toEqual([[uuid(1), 'first message']]);
    expect((await readHeadSummary(path)).preview).toBe('first message');
    const before = statSync(path);
    writeThread(home, 1, 'other message');
    utimesSync(path, OLD, OLD);
    expect(statSync(path).size).toBe(before.size);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    expect(await listed(home)).toEqual([[uuid(1), 'other message']]);
    expect((await readHeadSummary(path)).preview).toBe('other message');
  });

  it('lists a thread once its first message is appended', async () => {
    const home = makeTempDir();
    const path = writeThread(home, 1, null);
    await sleep(SETTLE_MS);
    expect(await listed(home)).toEqual([]);
    expect((await readHeadSummary(path)).preview).toBeNull();
    appendFileSync(path, `${JSON.stringify(userMessageLine('hello'))}\n`);
    expect(await listed(home)).toEqual([[uuid(1), 'hello']]);
  });

  it('sees a rollout added to a listed day directory whose mtime was put back', async () => {
    const home = makeTempDir();
    writeThread(home, 1, 'one');
    const day = join(home, 'sessions', '2025', '01', '03');
    utimesSync(day, OLD, OLD);
    await sleep(SETTLE_MS);
    expect(await listed(home)).toEqual([[uuid(1), 'one']]);
    const before = statSync(day);
    writeThread(home, 2, 'two');
    utimesSync(day, OLD, OLD);
    expect(statSync(day).mtimeMs).toBe(before.mtimeMs);
    expect(await listed(home)).toEqual([
      [uuid(2), 'two'],
      [uuid(1), 'one'],
    ]);
  });

  it('a find by id sees a rollout added to, or removed from, a searched directory whose mtime was put back', async () => {
    const home = makeTempDir();
    const first = writeThread(home, 1, 'one');
    const day = join(home, 'sessions', '2025', '01', '03');
    utimesSync(day, OLD, OLD);
    await sleep(SETTLE_MS);
    // Not a UUIDv7: the whole tree is searched (and its directories kept).
    expect(await findThreadPath(home, uuid(2))).toBeNull();
    expect(await findThreadPath(home, uuid(1))).toBe(first);
    const second = writeThread(home, 2, 'two');
    rmSync(first);
    utimesSync(day, OLD, OLD);
    expect(await findThreadPath(home, uuid(2))).toBe(second);
    expect(await findThreadPath(home, uuid(1))).toBeNull();
  });

  it('drops a rollout removed from a listed day directory', async () => {
    const home = makeTempDir();
    writeThread(home, 1, 'one');
    const second = writeThread(home, 2, 'two');
    await sleep(SETTLE_MS);
    expect((await listed(home)).length).toBe(2);
    rmSync(second);
    expect(await listed(home)).toEqual([[uuid(1), 'one']]);
  });
});
