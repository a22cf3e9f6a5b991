import { fsync, fsyncSync } from 'node:fs';
import * as z from 'zod';

/*
 * Where a recorder's flush runs its fsync: on the calling thread, or on libuv's threadpool.
 *
 * The threadpool round trip (wake a pool thread, then wake the event loop with the result) costs
 * ~50 µs per flush on a quiet small machine and 150 µs or more on a busy one, a fifth to a half
 * of a fast disk's fsync; better-sqlite3, which writes the state DB, fsyncs on the calling thread
 * for the same reason. But an fsync on the calling thread stalls the event loop for as long as
 * the disk takes, so it is only done while the disk is fast. An inline fsync that runs past the
 * budget (4 ms: a fast disk's jitter, no longer than a young-generation GC pause) pays its
 * overrun from an allowance: 1% of the time (10 ms a second), at most 20 ms of it saved up. Once
 * an overrun overdraws it, flushes use the threadpool until the allowance is back to zero; then
 * one flush probes inline again. So inline fsyncs hold the event loop past the budget for at
 * most ~1% of the time: a disk that stays slow is probed once per ~100 times its overrun (a
 * 500 ms stall buys ~50 s on the threadpool). Only the overrun is charged because a fast disk
 * has a tail: this machine's ext4 disk, fsynced back to back, has ~0.9% of its fsyncs over 2 ms
 * (8% of the time) but overruns 4 ms by under 1% of the time; charging whole slow fsyncs sent
 * most of a busy thread's flushes to the threadpool, each then ~170 µs slower. Each device
 * (`st_dev`) has its own allowance: a slow disk does not send a fast one's flushes to the
 * threadpool.
 */

/** An `FsyncPolicy`'s settings (validated: they may come from a caller's configuration). */
export const fsyncPolicyOptionsSchema = z
  .object({
    /**
     * How long, in ms, an inline fsync may take before its overrun is charged. Default 4. 0
     * turns inline fsync off: every flush's fsync goes to the threadpool.
     */
    budgetMs: z.number().finite().nonnegative().optional(),
    /** The share of the time slow inline fsyncs may take (the allowance's refill). Default 0.01. */
    stallShare: z.number().finite().positive().max(1).optional(),
    /** How much of the allowance, in ms, may be saved up and spent at once. Default 20. */
    stallBurstMs: z.number().finite().nonnegative().optional(),
  })
  .strict();

/** What `new FsyncPolicy(...)` takes: the budget, and the slow fsyncs' share and burst. */
export type FsyncPolicyOptions = z.input<typeof fsyncPolicyOptionsSchema>;

/** How many fsyncs went each way, and how many inline ones ran past the budget. */
export interface FsyncCounts {
  inline: number;
  threadpool: number;
  slowInline: number;
}

const NS_PER_MS = 1_000_000;

/** One device's allowance: what slow inline fsyncs may still take (negative: overdrawn). */
interface Allowance {
  ns: number;
  /** When `ns` was last brought up to date. */
  at: bigint;
}

/**
 * Decides, flush by flush, whether an fsync runs on the calling thread (see above). Its
 * decisions are a function of the inline fsync durations it was told about and of the clock
 * (`process.hrtime.bigint()` nanoseconds), so `inlineAt` and `observeInline` can be driven with
 * given times. One instance per process by default (`defaultFsyncPolicy`): a disk is shared by
 * every file on it, so the allowance is kept per device (`device`: the file's `st_dev`).
 */
export class FsyncPolicy {
  readonly budgetNs: number;
  readonly stallShare: number;
  readonly stallBurstNs: number;
  readonly #allowances = new Map<number, Allowance>();
  #counts: FsyncCounts = { inline: 0, threadpool: 0, slowInline: 0 };

  constructor(options: FsyncPolicyOptions = {}) {
    const parsed = fsyncPolicyOptionsSchema.parse(options);
    this.budgetNs = (parsed.budgetMs ?? 4) * NS_PER_MS;
    this.stallShare = parsed.stallShare ?? 0.01;
    this.stallBurstNs = (parsed.stallBurstMs ?? 20) * NS_PER_MS;
  }

  /** A device's allowance at `now`: refilled at `stallShare` since the last look, up to the burst. */
  #allowanceAt(device: number, now: bigint): Allowance {
    let allowance = this.#allowances.get(device);
    if (allowance === undefined) {
      allowance = { ns: this.stallBurstNs, at: now };
      this.#allowances.set(device, allowance);
    } else if (now > allowance.at) {
      const refill = Number(now - allowance.at) * this.stallShare;
      allowance.ns = Math.min(this.stallBurstNs, allowance.ns + refill);
      allowance.at = now;
    }
    return allowance;
  }

  /** Whether a flush at `now` of a file on `device` fsyncs on the calling thread. */
  inlineAt(now: bigint, device = 0): boolean {
    return this.budgetNs > 0 && this.#allowanceAt(device, now).ns >= 0;
  }

  /** Takes the duration of an inline fsync on `device` that ended at `end` (failed ones too). */
  observeInline(durationNs: bigint, end: bigint, device = 0): void {
    const overrun = Number(durationNs) - this.budgetNs;
    if (overrun <= 0) return;
    this.#counts.slowInline += 1;
    this.#allowanceAt(device, end).ns -= overrun;
  }

  /** Whether a flush of a file on `device` now fsyncs on the calling thread. */
  inlineNow(device = 0): boolean {
    return this.inlineAt(process.hrtime.bigint(), device);
  }

  /** fsync on the calling thread, timed; throws the fsync's error. */
  fsyncInline(fd: number, device = 0): void {
    this.#counts.inline += 1;
    const start = process.hrtime.bigint();
    try {
      fsyncSync(fd);
    } finally {
      const end = process.hrtime.bigint();
      this.observeInline(end - start, end, device);
    }
  }

  /** fsync on the threadpool (the callback API: ~2 µs less than `FileHandle.sync()`). */
  fsyncOnThreadpool(fd: number): Promise<void> {
    this.#counts.threadpool += 1;
    return new Promise((resolve, reject) => {
      fsync(fd, (error) => (error === null ? resolve() : reject(error)));
    });
  }

  /** fsync the way the policy decides now; rejects with the fsync's error. */
  fsync(fd: number, device = 0): Promise<void> {
    if (!this.inlineNow(device)) return this.fsyncOnThreadpool(fd);
    try {
      this.fsyncInline(fd, device);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Counts since creation (a copy). */
  get counts(): FsyncCounts {
    return { ...this.#counts };
  }
}

/** The process's policy: what recorders use unless given their own. */
export const defaultFsyncPolicy = new FsyncPolicy();
