import { collectRolloutFiles, findThreadIdByName, parseRolloutFileName } from '@skein/rollout';
import type { ThreadId } from '@skein/thread-store';
import { CliError } from './errors.js';
import { resolveThreadRef } from './thread-ref.js';

export interface RolloutFileRef {
  threadId: ThreadId;
  /** The plain `.jsonl` path (the file itself may be the `.zst` sibling). */
  path: string;
  archived: boolean;
}

/**
 * Every rollout file under `sessions/` (any depth) and `archived_sessions/`, by file name only
 * (the rollout package's backfill walk; no file is opened). Plain files shadow `.zst` ones.
 */
export async function walkRolloutFiles(home: string): Promise<RolloutFileRef[]> {
  const refs: RolloutFileRef[] = [];
  for (const file of collectRolloutFiles(home)) {
    const parsed = parseRolloutFileName(file.rolloutPath);
    if (parsed === null) continue;
    refs.push({ threadId: parsed.threadId, path: file.rolloutPath, archived: file.archived });
  }
  return refs;
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
