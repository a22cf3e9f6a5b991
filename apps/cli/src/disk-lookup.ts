import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  archivedSessionsDir,
  findThreadIdByName,
  parseRolloutFileName,
  plainRolloutPath,
  sessionsDir,
} from '@skein/rollout';
import type { ThreadId } from '@skein/thread-store';
import { CliError } from './errors.js';
import { resolveThreadRef } from './thread-ref.js';

/** Bound on directory entries one walk may visit (a home with far more is not a home). */
const MAX_WALK_ENTRIES = 2_000_000;

export interface RolloutFileRef {
  threadId: ThreadId;
  /** The plain `.jsonl` path (the file itself may be the `.zst` sibling). */
  path: string;
  archived: boolean;
}

/**
 * Every rollout file under `sessions/` (any depth) and `archived_sessions/`, by file name only
 * (no file is opened). Plain files shadow their `.zst` siblings.
 */
export async function walkRolloutFiles(home: string): Promise<RolloutFileRef[]> {
  const found = new Map<string, RolloutFileRef>();
  let visited = 0;
  const walk = async (dir: string, archived: boolean): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      visited += 1;
      if (visited > MAX_WALK_ENTRIES) return;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, archived);
      else if (entry.isFile()) {
        const parsed = parseRolloutFileName(entry.name);
        if (parsed === null) continue;
        const plain = plainRolloutPath(full);
        if (!parsed.compressed || !found.has(plain)) {
          found.set(plain, { threadId: parsed.threadId, path: plain, archived });
        }
      }
    }
  };
  await walk(sessionsDir(home), false);
  await walk(archivedSessionsDir(home), true);
  return [...found.values()];
}

/** The rollout file of a thread, found by file name (active first, then archived). */
export async function findThreadFileOnDisk(home: string, threadId: string): Promise<string> {
  const files = await walkRolloutFiles(home);
  const match = files.filter((file) => file.threadId === threadId.toLowerCase());
  const active = match.find((file) => !file.archived) ?? match[0];
  if (!active) throw CliError.notFound(`no rollout file for thread ${threadId} in ${home}`);
  return active.path;
}

/** `resolveThreadRef` with file names and `session_index.jsonl` only (no SQLite). */
export async function resolveThreadRefOnDisk(home: string, ref: string): Promise<ThreadId> {
  let files: RolloutFileRef[] | undefined;
  const allFiles = async () => {
    files ??= await walkRolloutFiles(home);
    return files;
  };
  return resolveThreadRef(ref, {
    byId: async (id) => ((await allFiles()).some((file) => file.threadId === id) ? id : null),
    byName: async (name) => {
      const ids = new Set((await allFiles()).map((file) => file.threadId as string));
      // Newest rename first; a thread's superseded names never match; skip missing threads.
      return findThreadIdByName(home, name, (id) => ids.has(id));
    },
    byPrefix: async (prefix) => [
      ...new Set(
        (await allFiles()).filter((f) => f.threadId.startsWith(prefix)).map((f) => f.threadId),
      ),
    ],
  });
}
