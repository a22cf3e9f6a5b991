/**
 * Hands out unique, monotonic millisecond timestamps (spec rollout-state §5.5). One allocator
 * per column and process, seeded with the column's MAX at open: a candidate newer than the
 * high-water mark is used as is; one at least a second older (backfill, repair) is kept
 * unchanged; anything in the hot second in between is moved to mark + 1. So sorting by the
 * column needs no tie-breaker for live writes, and backfilled rows keep their file times.
 */
export class TimestampAllocator {
  private highWaterMs: number;

  constructor(seedMs = 0) {
    this.highWaterMs = seedMs;
  }

  get highWaterMark(): number {
    return this.highWaterMs;
  }

  /** Raises the mark (e.g. after reading a newer value another process wrote). */
  observe(ms: number): void {
    if (ms > this.highWaterMs) this.highWaterMs = Math.trunc(ms);
  }

  allocate(candidateMs: number): number {
    const candidate = Math.trunc(candidateMs);
    if (candidate > this.highWaterMs) {
      this.highWaterMs = candidate;
      return candidate;
    }
    if (candidate + 1000 <= this.highWaterMs) return candidate;
    this.highWaterMs += 1;
    return this.highWaterMs;
  }
}
