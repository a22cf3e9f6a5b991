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
    return this.#absolute(this.watermark(index));
  }

  /** The file to read (plain, or `.zst` when only that exists). */
  path(index: number): string {
    return this.#onDisk(index, this.rolloutPath(index));
  }

  archived(index: number): boolean {
    return this.watermark(index).startsWith(this.#archivedPrefix);
  }

  /** `path`, `rolloutPath` and `archived` of one file, decoded once. */
  file(index: number): { path: string; rolloutPath: string; archived: boolean } {
    const relative = this.watermark(index);
    const rolloutPath = this.#absolute(relative);
    return {
      path: this.#onDisk(index, rolloutPath),
      rolloutPath,
      archived: relative.startsWith(this.#archivedPrefix),
    };
  }

  #absolute(relative: string): string {
    const { prefix, sep } = this.#data;
    return prefix + (sep === '/' ? relative : relative.replaceAll('/', sep));
  }

  #onDisk(index: number, plain: string): string {
    return this.#data.compressed[index] === 1 ? plain + this.#data.compressedSuffix : plain;
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
    let low = 0;
    let high = this.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.watermark(middle) > watermark) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Builds a table as files are found, in watermark order: each path is encoded into one growing
 * byte buffer at once, so a walk of 100,000 files leaves no string per file on the JS heap
 * (whose size at the walk's garbage collection would set how far V8 lets the heap grow during
 * the import).
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

  /** The table (files were added in watermark order). */
  build(): RolloutFileTable {
    const count = this.#count;
    // Exact-size copies: a clone to the reader thread copies whole backing buffers.
    const bytes = Buffer.allocUnsafeSlow(this.#length);
    this.#bytes.copy(bytes, 0, 0, this.#length);
    return new RolloutFileTable({
      prefix: this.prefix,
      sep: this.sep,
      compressedSuffix: this.compressedSuffix,
      bytes,
      offsets: this.#offsets.slice(0, count + 1),
      compressed: this.#compressed.slice(0, count),
      sizes: this.#sizes.slice(0, count),
    });
  }
}
