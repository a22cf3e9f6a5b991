import { fsync, fsyncSync } from 'node:fs';
import * as z from 'zod';

/*
 * Where a recorder's flush runs its fsync: on the calling thread, or on libuv's threadpool.
 *
 * The threadpool round trip (wake a pool thread, then wake the event loop with the result) costs
 * ~50 µs per flush on a small machine, a fifth of a fast disk's fsync; better-sqlite3, which
 * writes the state DB, fsyncs on the calling thread for the same reason. But an fsync on the
 * calling thread stalls the event loop for as long as the disk takes, so it is only done while
 * the disk is fast: an inline fsync that takes longer than the budget sends later flushes to
 * the threadpool for a back-off period, after which one flush probes inline again. The back-off
 * doubles for each slow probe in a row (a disk that stays slow is probed less and less often, at
 * most once per `maxBackoffMs`) and returns to `backoffMs` after a fast one, so a slow or
 * congested disk stalls the event loop at most once per back-off period.
 */

/** An `FsyncPolicy`'s settings (validated: they may come from a caller's configuration). */
export const fsyncPolicyOptionsSchema = z
  .object({
    /**
     * The longest inline fsync, in ms, that keeps later ones inline. Default 2. 0 turns inline
     * fsync off: every flush's fsync goes to the threadpool.
     */
    budgetMs: z.number().finite().nonnegative().optional(),
    /** How long flushes use the threadpool after a slow inline fsync, in ms. Default 1000. */
    backoffMs: z.number().finite().positive().optional(),
    /** The ceiling of the doubling back-off, in ms. Default 60,000. */
    maxBackoffMs: z.number().finite().positive().optional(),
  })
  .strict();

/** What `new FsyncPolicy(...)` takes: budget, back-off and its ceiling, in ms. */
export type FsyncPolicyOptions = z.input<typeof fsyncPolicyOptionsSchema>;

/** How many fsyncs went each way, and how many inline ones overran the budget. */
export interface FsyncCounts {
  inline: number;
  threadpool: number;
  slowInline: number;
}

const NS_PER_MS = 1_000_000;

function nanoseconds(ms: number): bigint {
  return BigInt(Math.round(ms * NS_PER_MS));
}

/**
 * Decides, flush by flush, whether an fsync runs on the calling thread (see above). Its
 * decisions are a function of the inline fsync durations it was told about and of the clock
 * (`process.hrtime.bigint()` nanoseconds), so `inlineAt` and `observeInline` can be driven with
 * given times. One instance per process by default (`defaultFsyncPolicy`): the disk is shared.
 */
export class FsyncPolicy {
  readonly budgetNs: bigint;
  readonly backoffNs: bigint;
  readonly maxBackoffNs: bigint;
  /** Before this instant flushes use the threadpool (the back-off after a slow inline fsync). */
  #threadpoolUntil = 0n;
  /** The back-off the next slow inline fsync starts. */
  #nextBackoff: bigint;
  #counts: FsyncCounts = { inline: 0, threadpool: 0, slowInline: 0 };

  constructor(options: FsyncPolicyOptions = {}) {
    const parsed = fsyncPolicyOptionsSchema.parse(options);
    this.budgetNs = nanoseconds(parsed.budgetMs ?? 2);
    const backoffMs = parsed.backoffMs ?? 1000;
    this.backoffNs = nanoseconds(backoffMs);
    this.maxBackoffNs = nanoseconds(Math.max(backoffMs, parsed.maxBackoffMs ?? 60_000));
    this.#nextBackoff = this.backoffNs;
  }

  /** Whether a flush at `now` fsyncs on the calling thread. */
  inlineAt(now: bigint): boolean {
    return this.budgetNs > 0n && now >= this.#threadpoolUntil;
  }

  /** Takes the duration of an inline fsync that ended at `end` (failed ones count too). */
  observeInline(durationNs: bigint, end: bigint): void {
    if (durationNs <= this.budgetNs) {
      this.#nextBackoff = this.backoffNs;
      return;
    }
    this.#counts.slowInline += 1;
    this.#threadpoolUntil = end + this.#nextBackoff;
    const doubled = this.#nextBackoff * 2n;
    this.#nextBackoff = doubled > this.maxBackoffNs ? this.maxBackoffNs : doubled;
  }

  /** Whether a flush now fsyncs on the calling thread. */
  inlineNow(): boolean {
    return this.inlineAt(process.hrtime.bigint());
  }

  /** fsync on the calling thread, timed; throws the fsync's error. */
  fsyncInline(fd: number): void {
    this.#counts.inline += 1;
    const start = process.hrtime.bigint();
    try {
      fsyncSync(fd);
    } finally {
      const end = process.hrtime.bigint();
      this.observeInline(end - start, end);
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
  fsync(fd: number): Promise<void> {
    if (!this.inlineNow()) return this.fsyncOnThreadpool(fd);
    try {
      this.fsyncInline(fd);
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
