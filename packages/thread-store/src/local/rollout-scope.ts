/**
 * Path rules of the file operations (archive, unarchive, delete): a rollout they move or delete
 * must lie inside its collection and be named for its thread. Pure checks, plus the one-file
 * delete (a vanished file counts as already deleted, so a retried delete finishes the job).
 */
import { realpathSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, isAbsolute, relative } from 'node:path';
import type { ThreadId } from '@skein/protocol';
import { ThreadStoreError } from '../errors.js';

/** An error's message, for the messages that carry it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The real path of `path`, refused unless it lies inside `root` (named `rootName` in errors). */
export function scopedRolloutPath(path: string, root: string, rootName: string): string {
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to resolve ${rootName} directory ${root}: ${messageOf(error)}`,
      error,
    );
  }
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw ThreadStoreError.invalidRequest(
      `rollout path \`${path}\` must be in ${rootName} directory`,
    );
  }
  const rel = relative(rootReal, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw ThreadStoreError.invalidRequest(
      `rollout path \`${path}\` must be in ${rootName} directory`,
    );
  }
  return real;
}

/** Refuses a rollout path whose file name does not end with the thread's id. */
export function checkRolloutFileName(path: string, threadId: ThreadId): void {
  const name = basename(path);
  if (!name.endsWith(`${threadId}.jsonl`) && !name.endsWith(`${threadId}.jsonl.zst`)) {
    throw ThreadStoreError.invalidRequest(
      `rollout path \`${path}\` does not match thread id ${threadId}`,
    );
  }
}

/** Deletes one rollout file; a vanished file counts as already deleted (returns false). */
export async function deleteRolloutFile(path: string, threadId: string): Promise<boolean> {
  const name = basename(path);
  if (!name.endsWith(`${threadId}.jsonl`) && !name.endsWith(`${threadId}.jsonl.zst`)) {
    throw ThreadStoreError.invalidRequest(
      `rollout path \`${path}\` does not match thread id ${threadId}`,
    );
  }
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ThreadStoreError.internal(
      `failed to delete rollout file \`${path}\`: ${messageOf(error)}`,
      error,
    );
  }
}
