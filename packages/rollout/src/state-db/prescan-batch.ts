import type { PrescannedRollout } from '../extract-file.js';
import { classifyRolloutLine, LineClass, LineStartFinder } from '../line-class.js';
import { forEachRolloutLineRangeSync, isBlankLine } from '../lines.js';

/*
 * Prescanned rollouts: what the backfill's reader thread reads a file into before extracting
 * its metadata. Per file it keeps only the lines a metadata scan may parse (`[class, offset,
 * length]` triples into one byte array) and counts the rest. Pure data and byte work, no JSON
 * parse. Several files can share one batch (the tests scan many, then extract each).
 */

/** Per-file numbers: status, mtimeMs, record from, record to, skipped, skipped unknown. */
export const META_FIELDS = 6;
/** A file with more candidate bytes than this is left to the main thread (it streams). */
export const PRESCAN_MAX_FILE_BYTES = 32 * 1024 * 1024;
const INITIAL_DATA_BYTES = 640 * 1024;

export enum FileStatus {
  Scanned = 0,
  /** Not scanned (unreadable, or too many candidate bytes): the main thread reads it. */
  ReadOnMain = 1,
}

export class PrescanBatchBuilder {
  // Uninitialized: every byte is written before it is read.
  data: Uint8Array = Buffer.allocUnsafeSlow(INITIAL_DATA_BYTES);
  /** Bytes of `data` in use. */
  length = 0;
  records = new Int32Array(3 * 4096);
  recordCount = 0;
  meta = new Float64Array(META_FIELDS * 8);
  files = 0;

  constructor(private readonly maxFileBytes = PRESCAN_MAX_FILE_BYTES) {}

  /** Empties the batch and keeps its buffers (the reader extracts each file once scanned). */
  reset(): void {
    // A buffer grown by one huge file is not kept for the rest of the import.
    if (this.data.length > 4 * INITIAL_DATA_BYTES)
      this.data = Buffer.allocUnsafeSlow(INITIAL_DATA_BYTES);
    this.length = 0;
    this.recordCount = 0;
    this.files = 0;
  }

  /** Reads and classifies one rollout (plain or `.zst`) into the next file slot. */
  scanFile(path: string): void {
    const recordsBefore = this.recordCount;
    const lengthBefore = this.length;
    const starts = new LineStartFinder();
    let skipped = 0;
    let skippedUnknown = 0;
    let tooBig = false;
    let status = FileStatus.Scanned;
    let mtimeMs = 0;
    try {
      const info = forEachRolloutLineRangeSync(path, (data, start, end, _offset, terminated) => {
        if (isBlankLine(data, start, end)) return true;
        const kind = classifyRolloutLine(data, start, end, terminated, starts);
        if (kind === LineClass.Skip || kind === LineClass.SkipUnknown) {
          skipped += 1;
          if (kind === LineClass.SkipUnknown) skippedUnknown += 1;
          return true;
        }
        if (this.length - lengthBefore + (end - start) > this.maxFileBytes) {
          tooBig = true;
          return false;
        }
        this.#addLine(kind, data, start, end);
        return true;
      });
      mtimeMs = info.mtimeMs;
      if (tooBig) status = FileStatus.ReadOnMain;
    } catch {
      // Unreadable here: the main thread reads it again and reports its own error.
      status = FileStatus.ReadOnMain;
    }
    if (status !== FileStatus.Scanned) {
      this.recordCount = recordsBefore;
      this.length = lengthBefore;
    }
    if (META_FIELDS * (this.files + 1) > this.meta.length) {
      const grown = new Float64Array(2 * this.meta.length);
      grown.set(this.meta);
      this.meta = grown;
    }
    const slot = META_FIELDS * this.files;
    this.meta[slot] = status;
    this.meta[slot + 1] = mtimeMs;
    this.meta[slot + 2] = recordsBefore;
    this.meta[slot + 3] = this.recordCount;
    this.meta[slot + 4] = skipped;
    this.meta[slot + 5] = skippedUnknown;
    this.files += 1;
  }

  #addLine(kind: LineClass, source: Buffer, start: number, end: number): void {
    const size = end - start;
    if (this.length + size > this.data.length) {
      const capacity = Math.max(2 * this.data.length, this.length + size);
      const grown = Buffer.allocUnsafeSlow(capacity);
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    source.copy(this.data, this.length, start, end);
    if (3 * this.recordCount + 3 > this.records.length) {
      const grown = new Int32Array(2 * this.records.length);
      grown.set(this.records);
      this.records = grown;
    }
    const at = 3 * this.recordCount;
    this.records[at] = kind;
    this.records[at + 1] = this.length;
    this.records[at + 2] = size;
    this.recordCount += 1;
    this.length += size;
  }
}

/** File `slot` of a batch as `extractThreadMetadataFromPrescan` takes it; null: read on main. */
export function prescannedFile(
  meta: Float64Array,
  records: Int32Array,
  data: Buffer,
  slot: number,
): PrescannedRollout | null {
  const at = META_FIELDS * slot;
  if (meta[at] !== FileStatus.Scanned) return null;
  return {
    data,
    records,
    mtimeMs: meta[at + 1] as number,
    from: meta[at + 2] as number,
    to: meta[at + 3] as number,
    skippedLines: meta[at + 4] as number,
    skippedUnknownLines: meta[at + 5] as number,
  };
}
