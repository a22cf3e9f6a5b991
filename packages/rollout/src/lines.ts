import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Decompress } from 'fzstd';
import { errnoCode, RolloutError } from './errors.js';
import { COMPRESSED_SUFFIX, compressedRolloutPath, plainRolloutPath } from './layout.js';

/*
 * Streaming line reader for rollout files. Files are read in large chunks and split on `\n`
 * with Buffer.indexOf, so a 100 MB rollout is never held as one string and lines are only
 * decoded when a caller wants them. `.jsonl.zst` files are decoded as a stream.
 */

/** Bytes per read. Large enough that a typical rollout (tens of KB) is one read. */
export const READ_CHUNK_BYTES = 1 << 20;

/**
 * Return `false` to stop reading. `line` excludes `\n` and a trailing `\r`; it is only valid
 * during the call (the sync reader reuses its buffer), so copy what must outlive it.
 */
export type LineVisitor = (
  line: Buffer,
  info: { offset: number; terminated: boolean },
) =>
  | boolean
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: visitors may return nothing
  | void;

/**
 * Allocation-free form of `LineVisitor`: the line is `data[start, end)` (without `\n` and a
 * trailing `\r`), valid only during the call.
 */
export type LineRangeVisitor = (
  data: Buffer,
  start: number,
  end: number,
  offset: number,
  terminated: boolean,
) =>
  | boolean
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: visitors may return nothing
  | void;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Feeds chunks, emits complete lines as ranges; keeps the unterminated tail between chunks. */
export class LineRangeSplitter {
  #carry: Buffer | null = null;
  /** File offset of the first byte of `#carry` (or of the next chunk when none). */
  #offset = 0;
  #stopped = false;

  constructor(private readonly visit: LineRangeVisitor) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Returns false once the visitor asked to stop. */
  push(chunk: Buffer): boolean {
    if (this.#stopped) return false;
    let data = chunk;
    const base = this.#offset;
    if (this.#carry !== null) {
      data = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
    }
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && data[end - 1] === CR) end -= 1;
      const keep = this.visit(data, start, end, base + start, true);
      start = nl + 1;
      if (keep === false) {
        this.#stopped = true;
        return false;
      }
    }
    if (start < data.length) {
      // Copy so a reused read buffer can never alias the carried tail.
      this.#carry = Buffer.from(data.subarray(start));
    }
    this.#offset = base + start;
    return true;
  }

  /** Emits the final unterminated line (a torn tail), if any. */
  end(): void {
    if (this.#stopped || this.#carry === null) return;
    const line = this.#carry;
    this.#carry = null;
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end -= 1;
    this.visit(line, 0, end, this.#offset, false);
  }
}

/** `LineRangeSplitter` handing each line to a `LineVisitor` as a Buffer view. */
export class LineSplitter extends LineRangeSplitter {
  constructor(visit: LineVisitor) {
    super((data, start, end, offset, terminated) =>
      visit(data.subarray(start, end), { offset, terminated }),
    );
  }
}

function isMissing(error: unknown): boolean {
  return errnoCode(error) === 'ENOENT';
}

/**
 * Opens a rollout for reading: the plain file, else its `.zst` sibling. Retries up to 3 times,
 * 50 ms apart, when neither exists (a plain↔compressed transition in progress).
 */
async function openRolloutHandle(path: string) {
  const plain = plainRolloutPath(path);
  const zst = compressedRolloutPath(path);
  const candidates = path.endsWith(COMPRESSED_SUFFIX) ? [zst, plain] : [plain, zst];
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    for (const candidate of candidates) {
      try {
        const handle = await open(candidate, 'r');
        return { handle, compressed: candidate.endsWith(COMPRESSED_SUFFIX), path: candidate };
      } catch (error) {
        lastError = error;
        if (!isMissing(error))
          throw new RolloutError('Io', `cannot open ${candidate}`, { cause: error });
      }
    }
    if (attempt < 2) await sleep(50);
  }
  throw new RolloutError('Io', `rollout not found: ${path}`, { cause: lastError });
}

/** What was read: the actual file (plain or `.zst`) and its mtime at open time. */
export interface RolloutFileInfo {
  path: string;
  compressed: boolean;
  /** mtime in whole milliseconds. */
  mtimeMs: number;
  size: number;
}

/** Reads every line of a rollout (plain or `.zst`), calling `visit` until it returns false. */
export function forEachRolloutLine(path: string, visit: LineVisitor): Promise<RolloutFileInfo> {
  return forEachRolloutLineRange(path, (data, start, end, offset, terminated) =>
    visit(data.subarray(start, end), { offset, terminated }),
  );
}

/** `forEachRolloutLine` with allocation-free line ranges. */
export async function forEachRolloutLineRange(
  path: string,
  visit: LineRangeVisitor,
): Promise<RolloutFileInfo> {
  const { handle, compressed, path: actual } = await openRolloutHandle(path);
  const splitter = new LineRangeSplitter(visit);
  try {
    const decoder = compressed
      ? new Decompress((data) => {
          splitter.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        })
      : null;
    const stats = await handle.stat();
    const size = stats.size;
    const info = { path: actual, compressed, mtimeMs: Math.floor(stats.mtimeMs), size };
    // Files up to the chunk size are read in one go; bigger ones in chunks.
    // A rollout up to the chunk size is one read of exactly its size (+1 to see growth).
    const chunkSize = Math.max(4096, Math.min(READ_CHUNK_BYTES, size + 1));
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await handle.read(buffer, 0, chunkSize, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      if (decoder !== null) decoder.push(chunk);
      else splitter.push(chunk);
      if (splitter.stopped) return info;
      // Short read at the size seen at open: done (saves the extra EOF read per file).
      if (bytesRead < chunkSize && total >= size) break;
    }
    if (decoder !== null) decoder.push(new Uint8Array(0), true);
    splitter.end();
    return info;
  } catch (error) {
    if (error instanceof RolloutError) throw error;
    throw new RolloutError('Io', `cannot read ${path}: ${String(error)}`, { cause: error });
  } finally {
    await handle.close();
  }
}

/** One scratch buffer for the sync reader: nothing else runs while it is in use. */
let scratch: Buffer | null = null;

/**
 * Synchronous twin of `forEachRolloutLine` for hot batch paths (backfill workers, list heads).
 * `firstReadBytes` bounds the first read (a reader that stops early reads no more).
 */
export function forEachRolloutLineSync(
  path: string,
  visit: LineVisitor,
  firstReadBytes = READ_CHUNK_BYTES,
): RolloutFileInfo {
  return forEachRolloutLineRangeSync(
    path,
    (data, start, end, offset, terminated) =>
      visit(data.subarray(start, end), { offset, terminated }),
    firstReadBytes,
  );
}

/** Synchronous `forEachRolloutLineRange`. */
export function forEachRolloutLineRangeSync(
  path: string,
  visit: LineRangeVisitor,
  firstReadBytes = READ_CHUNK_BYTES,
): RolloutFileInfo {
  const plain = plainRolloutPath(path);
  let actual = plain;
  let fd: number;
  let compressed = false;
  try {
    fd = openSync(plain, 'r');
  } catch (error) {
    if (!isMissing(error)) throw new RolloutError('Io', `cannot open ${plain}`, { cause: error });
    try {
      actual = compressedRolloutPath(path);
      fd = openSync(actual, 'r');
      compressed = true;
    } catch (inner) {
      throw new RolloutError('Io', `rollout not found: ${path}`, { cause: inner });
    }
  }
  const splitter = new LineRangeSplitter(visit);
  try {
    const decoder = compressed
      ? new Decompress((data) => {
          splitter.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        })
      : null;
    const stats = fstatSync(fd);
    const info = { path: actual, compressed, mtimeMs: Math.floor(stats.mtimeMs), size: stats.size };
    // The decoder may keep references to input chunks, so only plain reads share the buffer.
    if (scratch === null) scratch = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let total = 0;
    let want = Math.max(1, Math.min(firstReadBytes, READ_CHUNK_BYTES));
    for (;;) {
      const buffer = compressed ? Buffer.allocUnsafe(want) : scratch;
      const bytesRead = readSync(fd, buffer, 0, want, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      if (decoder !== null) decoder.push(chunk);
      else splitter.push(chunk);
      if (splitter.stopped) return info;
      if (bytesRead < want && total >= info.size) break;
      want = READ_CHUNK_BYTES;
    }
    if (decoder !== null) decoder.push(new Uint8Array(0), true);
    splitter.end();
    return info;
  } catch (error) {
    if (error instanceof RolloutError) throw error;
    throw new RolloutError('Io', `cannot read ${path}: ${String(error)}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

/** True when the line (or `line[start, end)`) has only whitespace. */
export function isBlankLine(line: Buffer, start = 0, end = line.length): boolean {
  for (let i = start; i < end; i += 1) {
    const byte = line[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== CR && byte !== NEWLINE) return false;
  }
  return true;
}
