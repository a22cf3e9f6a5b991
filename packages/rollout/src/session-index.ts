import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isThreadId, type ThreadId } from '@skein/protocol';
import * as z from 'zod';
import { errnoCode, RolloutError, requireThreadId } from './errors.js';
import { findThreadPath } from './find-thread-path.js';
import { readSessionMetaLine } from './head-summary.js';
import { sessionIndexPath } from './layout.js';
import { currentSessionIndexNames } from './session-index-cache.js';
import { type SessionIndexLockOptions, withSessionIndexLock } from './session-index-lock.js';

/*
 * `session_index.jsonl`, the append-only thread-name index (spec rollout-state §4.7): one
 * `{"id","thread_name","updated_at"}` object per line; for an id, the latest line (file
 * order, not `updated_at`) wins.
 */

/** Zod schema of a `session_index.jsonl` line: thread id, name, and when it was set. */
export const SessionIndexEntrySchema = z.looseObject({
  id: z.string(),
  thread_name: z.string(),
  updated_at: z.string().optional(),
});
/** A `session_index.jsonl` line. */
export type SessionIndexEntry = z.infer<typeof SessionIndexEntrySchema>;

/** Bytes per chunk of the backwards scan. */
const REVERSE_CHUNK_BYTES = 8 * 1024;

function parseEntry(text: string): SessionIndexEntry | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    const parsed = SessionIndexEntrySchema.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** RFC 3339 UTC with nanosecond digits, like Codex writes (`…T02:52:02.471943541Z`). */
function nowWithNanos(): string {
  const now = Date.now();
  const iso = new Date(now).toISOString(); // …sss Z
  const subMs = process.hrtime.bigint() % 1_000_000n;
  return `${iso.slice(0, 23)}${subMs.toString().padStart(6, '0')}Z`;
}

/**
 * Appends a name for a thread, under Codex's session-index lock. The line goes out in one
 * `write()` on an `O_APPEND` fd, so even a writer that skips the lock never interleaves inside
 * a line; then it is fsynced.
 */
export async function appendSessionIndexEntry(
  codexHome: string,
  threadId: string,
  threadName: string,
  updatedAt: string = nowWithNanos(),
  lock: SessionIndexLockOptions = {},
): Promise<SessionIndexEntry> {
  const id = requireThreadId(threadId);
  const entry: SessionIndexEntry = { id, thread_name: threadName, updated_at: updatedAt };
  const bytes = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
  const path = sessionIndexPath(codexHome);
  await withSessionIndexLock(
    codexHome,
    async () => {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(path, 'a');
      } catch (error) {
        throw new RolloutError('Io', `cannot open ${path}`, { cause: error });
      }
      try {
        const { bytesWritten } = await handle.write(bytes, 0, bytes.length, null);
        if (bytesWritten !== bytes.length) {
          throw new RolloutError('Io', `short write to ${path} (${bytesWritten}/${bytes.length})`);
        }
        await handle.sync();
      } catch (error) {
        if (error instanceof RolloutError) throw error;
        throw new RolloutError('Io', `cannot append to ${path}`, { cause: error });
      } finally {
        await handle.close();
      }
    },
    lock,
  );
  return entry;
}

async function readIndexText(codexHome: string): Promise<string | null> {
  try {
    return await readFile(sessionIndexPath(codexHome), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw new RolloutError('Io', 'cannot read the session index', { cause: error });
  }
}

/**
 * Entries from the newest line to the oldest, read backwards in 8 KiB chunks (a name lookup
 * touches only the end of a long index). Blank, invalid and non-UTF-8 lines are skipped.
 */
export async function* readSessionIndexBackwards(
  codexHome: string,
): AsyncGenerator<SessionIndexEntry> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(sessionIndexPath(codexHome), 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw new RolloutError('Io', 'cannot open the session index', { cause: error });
  }
  try {
    let position = (await handle.stat()).size;
    let tail: Buffer = Buffer.alloc(0);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const emit = (bytes: Buffer): SessionIndexEntry | null => {
      try {
        return parseEntry(decoder.decode(bytes));
      } catch {
        return null; // not UTF-8
      }
    };
    while (position > 0) {
      const size = Math.min(REVERSE_CHUNK_BYTES, position);
      position -= size;
      const chunk = Buffer.allocUnsafe(size);
      await handle.read(chunk, 0, size, position);
      let data = Buffer.concat([chunk, tail]);
      let end = data.length;
      for (
        let nl = data.lastIndexOf(0x0a, end - 1);
        nl >= 0;
        nl = data.lastIndexOf(0x0a, end - 1)
      ) {
        const entry = emit(data.subarray(nl + 1, end));
        if (entry !== null) yield entry;
        end = nl;
        if (end === 0) break;
      }
      data = data.subarray(0, end);
      tail = Buffer.from(data);
    }
    if (tail.length > 0) {
      const entry = emit(tail);
      if (entry !== null) yield entry;
    }
  } finally {
    await handle.close();
  }
}

/** A thread name as the index means it: a blank one (or none) is no name, null. */
export function nameOrNone(name: string | null | undefined): string | null {
  return name === undefined || name === null || name.trim() === '' ? null : name;
}

/** The current name of a thread (latest line wins; a blank one is no name), or null. */
export async function findThreadNameById(
  codexHome: string,
  threadId: string,
): Promise<string | null> {
  return nameOrNone(
    (await currentSessionIndexNames(codexHome)).get(threadId.toLowerCase() as ThreadId),
  );
}

/** Current names of many threads (latest line per id; blank ones left out). */
export async function findThreadNamesByIds(
  codexHome: string,
  threadIds: Iterable<string>,
): Promise<Map<ThreadId, string>> {
  const latest = await currentSessionIndexNames(codexHome);
  const names = new Map<ThreadId, string>();
  for (const raw of threadIds) {
    const id = raw.toLowerCase() as ThreadId;
    const name = latest.get(id);
    if (name !== undefined && name.trim() !== '') names.set(id, name);
  }
  return names;
}

/** Every thread's current name (latest line per id; blank ones left out). */
export async function readSessionIndexNames(codexHome: string): Promise<Map<ThreadId, string>> {
  const names = new Map<ThreadId, string>();
  for (const [id, name] of await currentSessionIndexNames(codexHome)) {
    if (name.trim() !== '') names.set(id, name);
  }
  return names;
}

/** Whether a thread's rollout exists and starts with its own `session_meta` (a saved thread). */
export async function hasSavedRollout(codexHome: string, threadId: ThreadId): Promise<boolean> {
  const path = await findThreadPath(codexHome, threadId);
  if (path === null) return false;
  try {
    const meta = await readSessionMetaLine(path);
    return meta.id.toLowerCase() === threadId;
  } catch {
    return false;
  }
}

/**
 * The newest thread currently named `name`: ids are visited newest first, a thread's older
 * names are ignored (a renamed thread never matches its historical name), and an id is only
 * returned when `accept` says its rollout is usable — by default when its rollout exists and
 * starts with its `session_meta` (unsaved, partial and empty rollouts are skipped).
 */
export async function findThreadIdByName(
  codexHome: string,
  name: string,
  accept: (threadId: ThreadId) => Promise<boolean> | boolean = (id) =>
    hasSavedRollout(codexHome, id),
): Promise<ThreadId | null> {
  const seen = new Set<string>();
  for await (const entry of readSessionIndexBackwards(codexHome)) {
    const id = entry.id.toLowerCase();
    if (seen.has(id)) continue;
    seen.add(id);
    if (entry.thread_name !== name || !isThreadId(id)) continue;
    if (await accept(id as ThreadId)) return id as ThreadId;
  }
  return null;
}

/**
 * Removes every line of a thread from the index (thread deletion): the rest is written to a
 * temp file in the same directory, fsynced, and renamed over the index, all under Codex's
 * session-index lock. Returns lines removed.
 */
export async function removeSessionIndexEntries(
  codexHome: string,
  threadId: string,
  lock: SessionIndexLockOptions = {},
): Promise<number> {
  const id = threadId.toLowerCase();
  // Read to rename under the lock: a name appended meanwhile would be lost with the old file.
  return withSessionIndexLock(
    codexHome,
    async () => {
      const text = await readIndexText(codexHome);
      if (text === null) return 0;
      const kept: string[] = [];
      let removed = 0;
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      for (const line of lines) {
        const entry = parseEntry(line);
        if (entry !== null && entry.id.toLowerCase() === id) removed += 1;
        else kept.push(line);
      }
      if (removed === 0) return 0;
      const path = sessionIndexPath(codexHome);
      const temp = join(dirname(path), `.session_index.jsonl.${process.pid}.${Date.now()}.tmp`);
      try {
        await writeFile(temp, kept.map((line) => `${line}\n`).join(''), { flush: true });
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw new RolloutError('Io', `cannot rewrite ${path}`, { cause: error });
      }
      return removed;
    },
    lock,
  );
}
