/*
 * A home's rollout files as the backfill keeps them: their home-relative paths packed into one
 * UTF-8 byte table with offsets, a flag byte and a size each. 100,000 files take ~10 MB outside
 * the JS heap (an object with three strings per file took ~50 MB in it, which V8 then grows
 * its heap around), and the table crosses to the reader thread as a few buffers. No imports:
 * the reader thread loads this module alone.
 */

/** The table as plain data (structured-cloneable). */
export interface RolloutFileTableData {
  /** The home with a trailing separator. */
  prefix: string;
  sep: string;
  /** Suffix of a file stored compressed (its plain path is stored). */
  compressedSuffix: string;
  /** Home-relative plain paths with `/`, UTF-8, in watermark order. */
  bytes: Uint8Array;
  /** Entry `i` is `bytes[offsets[i], offsets[i + 1])`. */
  offsets: Uint32Array;
  /** Per file: 1 when only the compressed file exists. */
  compressed: Uint8Array;
  /** Bytes on disk per file (zeros unless sizes were asked for). */
  sizes: Float64Array;
}

/** Rollout files in watermark order (home-relative plain paths, Codex's resume order). */
export class RolloutFileTable {
  readonly #data: RolloutFileTableData;
  readonly #bytes: Buffer;
  readonly #archivedPrefix: string;

  constructor(data: RolloutFileTableData, archivedSubdir = 'archived_sessions') {
    this.#data = data;
    this.#bytes = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
    this.#archivedPrefix = `${archivedSubdir}/`;
  }

  get length(): number {
    return this.#data.compressed.length;
  }

  /** The table as plain data, to rebuild it on another thread. */
  get data(): RolloutFileTableData {
    return this.#data;
  }

  /** Home-relative plain path with `/`: the resume watermark. */
  watermark(index: number): string {
    const offsets = this.#data.offsets;
    return this.#bytes.toString('utf8', offsets[index], offsets[index + 1]);
  }

  /** The logical plain `.jsonl` path (what the DB stores). */
  rolloutPath(index: number): string {
    const { prefix, sep } = this.#data;
    const relative = this.watermark(index);
    return prefix + (sep === '/' ? relative : relative.replaceAll('/', sep));
  }

  /** The file to read (plain, or `.zst` when only that exists). */
  path(index: number): string {
    const plain = this.rolloutPath(index);
    return this.#data.compressed[index] === 1 ? plain + this.#data.compressedSuffix : plain;
  }

  archived(index: number): boolean {
    return this.watermark(index).startsWith(this.#archivedPrefix);
  }

  size(index: number): number {
    return this.#data.sizes[index] as number;
  }

  /** Sum of the sizes of files `[from, to)`. */
  bytesBetween(from: number, to: number): number {
    let sum = 0;
    for (let i = from; i < to; i += 1) sum += this.#data.sizes[i] as number;
    return sum;
  }

  /** Index of the first file whose watermark sorts after `watermark` (binary search). */
  firstAfter(watermark: string): number {
    // Compared as bytes, the order `RolloutFileTableBuilder` sorts by.
    const target = Buffer.from(watermark);
    const offsets = this.#data.offsets;
    let low = 0;
    let high = this.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const start = offsets[middle] as number;
      const end = offsets[middle + 1] as number;
      if (this.#bytes.compare(target, 0, target.length, start, end) > 0) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Builds a table as files are found: each path is encoded into one growing byte buffer at
 * once, so a walk of 100,000 files leaves no string per file on the JS heap (whose size at the
 * walk's garbage collection would set how far V8 lets the heap grow during the import).
 */
export class RolloutFileTableBuilder {
  #bytes = Buffer.allocUnsafeSlow(64 * 1024);
  #length = 0;
  #offsets = new Uint32Array(1024);
  #compressed = new Uint8Array(1024);
  #sizes = new Float64Array(1024);
  #count = 0;

  constructor(
    private readonly prefix: string,
    private readonly sep: string,
    private readonly compressedSuffix: string,
  ) {}

  /** Adds a file by its home-relative plain path with `/`. */
  add(relativePath: string, compressed: boolean, size: number): void {
    const needed = Buffer.byteLength(relativePath);
    if (this.#length + needed > this.#bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.#bytes.length, this.#length + needed));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    if (this.#count + 2 > this.#offsets.length) {
      const capacity = 2 * this.#offsets.length;
      const offsets = new Uint32Array(capacity);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
      const flags = new Uint8Array(capacity);
      flags.set(this.#compressed);
      this.#compressed = flags;
      const sizes = new Float64Array(capacity);
      sizes.set(this.#sizes);
      this.#sizes = sizes;
    }
    this.#offsets[this.#count] = this.#length;
    this.#compressed[this.#count] = compressed ? 1 : 0;
    this.#sizes[this.#count] = size;
    this.#length += this.#bytes.write(relativePath, this.#length);
    this.#count += 1;
    this.#offsets[this.#count] = this.#length;
  }

  /**
   * The table in watermark order. Paths compare by their UTF-8 bytes (code point order, as
   * Codex's own string order does; the same as JS order for every path without characters
   * beyond U+FFFF).
   */
  build(): RolloutFileTable {
    const count = this.#count;
    const source = this.#bytes;
    const offsets = this.#offsets;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i += 1) order[i] = i;
    order.sort((a, b) =>
      compareBytes(
        source,
        offsets[a] as number,
        offsets[a + 1] as number,
        offsets[b] as number,
        offsets[b + 1] as number,
      ),
    );
    const bytes = Buffer.allocUnsafeSlow(this.#length);
    const sortedOffsets = new Uint32Array(count + 1);
    const compressed = new Uint8Array(count);
    const sizes = new Float64Array(count);
    let at = 0;
    for (let i = 0; i < count; i += 1) {
      const from = order[i] as number;
      sortedOffsets[i] = at;
      at += source.copy(bytes, at, offsets[from], offsets[from + 1]);
      compressed[i] = this.#compressed[from] as number;
      sizes[i] = this.#sizes[from] as number;
    }
    sortedOffsets[count] = at;
    return new RolloutFileTable({
      prefix: this.prefix,
      sep: this.sep,
      compressedSuffix: this.compressedSuffix,
      bytes,
      offsets: sortedOffsets,
      compressed,
      sizes,
    });
  }
}

function compareBytes(
  bytes: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < length; i += 1) {
    const difference = (bytes[aStart + i] as number) - (bytes[bStart + i] as number);
    if (difference !== 0) return difference;
  }
  return aEnd - aStart - (bEnd - bStart);
}
