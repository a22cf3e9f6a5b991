import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { FsyncPolicy } from '../src/index.js';

const MS = 1_000_000n;

describe('FsyncPolicy decisions', () => {
  it('stays inline while inline fsyncs finish within the budget', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, stallBurstMs: 0 });
    let now = 10n * MS;
    for (let flush = 0; flush < 50; flush += 1) {
      expect(policy.inlineAt(now)).toBe(true);
      policy.observeInline(2n * MS, now + 2n * MS);
      now += 3n * MS;
    }
    expect(policy.counts.slowInline).toBe(0);
  });

  it('pays what slow inline fsyncs run past the budget from the allowance; overdrawn, uses the threadpool until it refills', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, stallShare: 0.01, stallBurstMs: 20 });
    const end = 1_000n * MS;
    // Five slow fsyncs of 6 ms overrun the budget by 4 ms each and spend the 20 ms saved up:
    // still inline (not overdrawn).
    for (let slow = 0; slow < 5; slow += 1) {
      expect(policy.inlineAt(end)).toBe(true);
      policy.observeInline(6n * MS, end);
    }
    expect(policy.inlineAt(end)).toBe(true);
    policy.observeInline(6n * MS, end);
    expect(policy.counts.slowInline).toBe(6);
    // 4 ms overdrawn, refilled at 1% of the time: 400 ms on the threadpool, then one probe.
    expect(policy.inlineAt(end + 1n * MS)).toBe(false);
    expect(policy.inlineAt(end + 399n * MS)).toBe(false);
    expect(policy.inlineAt(end + 400n * MS)).toBe(true);
    // The probe is fast: inline from then on.
    policy.observeInline(300_000n, end + 400n * MS);
    expect(policy.inlineAt(end + 401n * MS)).toBe(true);
  });

  it('a long stall buys a threadpool period in proportion, and the allowance saves up no more than the burst', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, stallShare: 0.01, stallBurstMs: 20 });
    // An hour idle first: the allowance is still 20 ms, no more.
    const end = 3_600_000n * MS;
    expect(policy.inlineAt(end)).toBe(true);
    policy.observeInline(500n * MS, end);
    // 498 ms past the budget, 478 ms overdrawn: 47.8 s at 1%.
    expect(policy.inlineAt(end + 47_799n * MS)).toBe(false);
    expect(policy.inlineAt(end + 47_800n * MS)).toBe(true);
  });

  it('holds the event loop past the budget for at most its share of the time', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, stallShare: 0.01, stallBurstMs: 20 });
    // A disk whose every fsync takes 5 ms (3 ms past the budget), flushed every millisecond
    // for 100 s.
    let overrunMs = 0;
    let inline = 0;
    for (let ms = 0n; ms < 100_000n; ms += 1n) {
      if (!policy.inlineAt(ms * MS)) continue;
      inline += 1;
      overrunMs += 3;
      policy.observeInline(5n * MS, (ms + 5n) * MS);
    }
    // 1% of 100 s, plus the 20 ms saved up and the one overrun that overdraws it.
    expect(overrunMs).toBeLessThanOrEqual(1_000 + 20 + 3);
    expect(inline).toBeGreaterThan(250);
    // A disk this slow spends most of its flushes on the threadpool.
    expect(inline).toBeLessThan(1_000);
  });

  it('keeps a fast disk with a slow tail inline', () => {
    const policy = new FsyncPolicy();
    // 4,000 flushes a second for 10 s: 0.3 ms each, but one in a hundred takes 3.5 ms and one
    // in a thousand 6 ms (this machine's disk fsynced back to back).
    let now = 0n;
    let threadpool = 0;
    for (let flush = 1; flush <= 40_000; flush += 1) {
      now += 250_000n;
      if (!policy.inlineAt(now)) {
        threadpool += 1;
        continue;
      }
      const took = flush % 1_000 === 0 ? 6n * MS : flush % 100 === 0 ? 3_500_000n : 300_000n;
      now += took;
      policy.observeInline(took, now);
    }
    expect(policy.counts.slowInline).toBe(40);
    expect(threadpool).toBe(0);
  });

  it('keeps an allowance per device: a slow disk leaves another one inline', () => {
    const policy = new FsyncPolicy({ budgetMs: 2, stallShare: 0.01, stallBurstMs: 20 });
    const slowDisk = 2049;
    const fastDisk = 41;
    policy.observeInline(100n * MS, 5n * MS, slowDisk);
    expect(policy.inlineAt(6n * MS, slowDisk)).toBe(false);
    expect(policy.inlineAt(6n * MS, fastDisk)).toBe(true);
    expect(policy.inlineAt(6n * MS)).toBe(true);
  });

  it('a budget of 0 never fsyncs inline', () => {
    const policy = new FsyncPolicy({ budgetMs: 0 });
    expect(policy.inlineAt(0n)).toBe(false);
    expect(policy.inlineAt(10_000n * MS)).toBe(false);
    expect(policy.inlineNow()).toBe(false);
  });

  it('refuses settings that are not durations or shares', () => {
    expect(() => new FsyncPolicy({ budgetMs: -1 })).toThrow();
    expect(() => new FsyncPolicy({ stallShare: 0 })).toThrow();
    expect(() => new FsyncPolicy({ stallShare: 2 })).toThrow();
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
