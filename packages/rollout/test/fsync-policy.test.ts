import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { FsyncPolicy } from '../src/index.js';

const MS = 1_000_000n;

describe('FsyncPolicy decisions', () => {
  it('stays inline while inline fsyncs finish within the budget', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, backoffMs: 1000 });
    let now = 10n * MS;
    for (let flush = 0; flush < 50; flush += 1) {
      expect(policy.inlineAt(now)).toBe(true);
      policy.observeInline(2n * MS, now + 2n * MS);
      now += 3n * MS;
    }
    expect(policy.counts.slowInline).toBe(0);
  });

  it('after a slow inline fsync uses the threadpool for the back-off, then probes inline once', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, backoffMs: 1000 });
    const slowEnd = 50n * MS;
    policy.observeInline(2n * MS + 1n, slowEnd);
    expect(policy.counts.slowInline).toBe(1);
    expect(policy.inlineAt(slowEnd)).toBe(false);
    expect(policy.inlineAt(slowEnd + 999n * MS)).toBe(false);
    expect(policy.inlineAt(slowEnd + 1000n * MS)).toBe(true);
    // The probe is fast: inline again from then on.
    policy.observeInline(100_000n, slowEnd + 1000n * MS);
    expect(policy.inlineAt(slowEnd + 1001n * MS)).toBe(true);
  });

  it('doubles the back-off for slow probes in a row, up to the ceiling, and resets after a fast one', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, backoffMs: 1000, maxBackoffMs: 4000 });
    let end = 0n;
    const waits: bigint[] = [];
    for (let probe = 0; probe < 5; probe += 1) {
      policy.observeInline(10n * MS, end);
      let wait = 0n;
      while (!policy.inlineAt(end + wait)) wait += 250n * MS;
      waits.push(wait / MS);
      end += wait;
    }
    expect(waits).toEqual([1000n, 2000n, 4000n, 4000n, 4000n]);
    policy.observeInline(1n * MS, end);
    policy.observeInline(10n * MS, end + 5n * MS);
    expect(policy.inlineAt(end + 5n * MS + 999n * MS)).toBe(false);
    expect(policy.inlineAt(end + 5n * MS + 1000n * MS)).toBe(true);
  });

  it('a budget of 0 never fsyncs inline', () => {
    const policy = new FsyncPolicy({ budgetMs: 0 });
    expect(policy.inlineAt(0n)).toBe(false);
    expect(policy.inlineAt(10_000n * MS)).toBe(false);
    expect(policy.inlineNow()).toBe(false);
  });

  it('refuses settings that are not durations', () => {
    expect(() => new FsyncPolicy({ budgetMs: -1 })).toThrow();
    expect(() => new FsyncPolicy({ backoffMs: 0 })).toThrow();
    expect(() => new FsyncPolicy({ budgetMs: Number.NaN })).toThrow();
    expect(() => new FsyncPolicy({ budget: 2 } as never)).toThrow();
  });
});

describe('FsyncPolicy fsync', () => {
  it('fsyncs a real file either way and counts where each went', async () => {
    const path = join(makeTempDir(), 'f');
    const fd = openSync(path, 'a');
    try {
      const policy = new FsyncPolicy({ budgetMs: 60_000 });
      writeSync(fd, 'one\n');
      await policy.fsync(fd);
      writeSync(fd, 'two\n');
      await policy.fsyncOnThreadpool(fd);
      expect(policy.counts).toEqual({ inline: 1, threadpool: 1, slowInline: 0 });
      expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    } finally {
      closeSync(fd);
    }
  });

  it('reports a real fsync error on both paths (EBADF)', async () => {
    // Above any descriptor limit, so never open (a closed fd could be reused meanwhile).
    const fd = 2 ** 30;
    const policy = new FsyncPolicy({ budgetMs: 60_000 });
    expect(() => policy.fsyncInline(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await expect(policy.fsync(fd)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(policy.fsyncOnThreadpool(fd)).rejects.toMatchObject({ code: 'EBADF' });
    expect(policy.counts).toEqual({ inline: 2, threadpool: 1, slowInline: 0 });
  });
});
