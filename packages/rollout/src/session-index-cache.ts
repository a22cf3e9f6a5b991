import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isThreadId, type ThreadId } from '@skein/protocol';
import { errnoCode, RolloutError } from './errors.js';
import { sessionIndexPath } from './layout.js';

/**
 * The current names of `session_index.jsonl`, kept per process and brought up to date on every
 * lookup: the file is stat'ed each time (no answer is older than the file), and since writers
 * only append, a grown file is read from where the last read stopped — a name lookup costs a
 * stat and the new bytes, not the whole index. A file that shrank or was replaced (a delete
 * rewrites it) is read again in full. For an id, the latest line wins; a blank name there means
 * the thread has no name.
 */
interface IndexSnapshot {
  dev: number;
  ino: number;
  /** Bytes consumed: complete lines up to here are in `latest`. */
  consumed: number;
  mtimeMs: number;
  /** Latest name per id, blank ones included (a cleared name). */
  latest: Map<ThreadId, string>;
}

const snapshots = new Map<string, IndexSnapshot>();
/** Bytes read per chunk when catching up. */
const CHUNK_BYTES = 1 << 20;

function applyLine(latest: Map<ThreadId, string>, text: string): void {
  const trimmed = text.trim();
  if (trimmed === '') return;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return;
  }
  const entry = value as { id?: unknown; thread_name?: unknown };
  if (typeof entry.id !== 'string' || typeof entry.thread_name !== 'string') return;
  if (!isThreadId(entry.id)) return;
  latest.set(entry.id.toLowerCase() as ThreadId, entry.thread_name);
}

async function catchUp(handle: FileHandle, snapshot: IndexSnapshot, size: number): Promise<void> {
  const decoder = new TextDecoder('utf-8');
  let position = snapshot.consumed;
  let carry = Buffer.alloc(0);
  while (position < size) {
    const length = Math.min(CHUNK_BYTES, size - position);
    const chunk = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(chunk, 0, length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const data =
      carry.length === 0
        ? chunk.subarray(0, bytesRead)
        : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      applyLine(snapshot.latest, decoder.decode(data.subarray(start, nl)));
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  // A line still being written (no `\n` yet) is read again next time.
  snapshot.consumed = position - carry.length;
}

/** The latest name line per thread id (blank = no name), up to date with the file. */
export async function currentSessionIndexNames(
  codexHome: string,
): Promise<ReadonlyMap<ThreadId, string>> {
  const path = resolve(sessionIndexPath(codexHome));
  // The common case answered from a stat alone (no open, no thrown ENOENT): no file, or a file
  // exactly as the snapshot last read it (the same test the read below applies).
  const seen = statSync(path, { throwIfNoEntry: false });
  if (seen === undefined) {
    snapshots.delete(path);
    return new Map();
  }
  const known = snapshots.get(path);
  if (
    known !== undefined &&
    seen.isFile() &&
    known.dev === seen.dev &&
    known.ino === seen.ino &&
    seen.size === known.consumed &&
    seen.mtimeMs === known.mtimeMs
  ) {
    return known.latest;
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      snapshots.delete(path);
      return new Map();
    }
    throw new RolloutError('Io', 'cannot open the session index', { cause: error });
  }
  try {
    const stats = await handle.stat();
    let snapshot = snapshots.get(path);
    const replaced =
      snapshot === undefined ||
      snapshot.dev !== stats.dev ||
      snapshot.ino !== stats.ino ||
      stats.size < snapshot.consumed ||
      (stats.size === snapshot.consumed && stats.mtimeMs !== snapshot.mtimeMs);
    if (replaced || snapshot === undefined) {
      snapshot = { dev: stats.dev, ino: stats.ino, consumed: 0, mtimeMs: 0, latest: new Map() };
    }
    if (stats.size > snapshot.consumed) await catchUp(handle, snapshot, stats.size);
    snapshot.mtimeMs = stats.mtimeMs;
    snapshots.set(path, snapshot);
    return snapshot.latest;
  } catch (error) {
    snapshots.delete(path);
    if (error instanceof RolloutError) throw error;
    throw new RolloutError('Io', 'cannot read the session index', { cause: error });
  } finally {
    await handle.close();
  }
}
