/**
 * The racy-stat rule (git's "racy git"): a file's stat signature (inode, size, mtime) vouches
 * for its content only if its newest timestamp is clearly older than the moment the content
 * was read. A write in the same clock tick as the read could keep the size and the coarse
 * timestamp, so such a signature is not trusted and the file is read again next time.
 */

/**
 * More than a kernel clock tick on file systems with sub-second times; two seconds on those
 * that keep whole seconds (or two, FAT).
 */
const RACY_MARGIN_NS = 100_000_000n;
const RACY_MARGIN_COARSE_NS = 2_000_000_000n;

/** Whether a file whose newest timestamp is `newestNs` was settled when read at `readAtNs`. */
export function settledBefore(newestNs: bigint, readAtNs: bigint): boolean {
  const margin = newestNs % 1_000_000_000n === 0n ? RACY_MARGIN_COARSE_NS : RACY_MARGIN_NS;
  return newestNs + margin < readAtNs;
}

/** The wall clock in nanoseconds, for `settledBefore`'s read time. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
