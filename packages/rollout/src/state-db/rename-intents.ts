import {
  dropRenameIntent,
  getThread,
  isRenameIntentAbandoned,
  listRenameIntents,
  patchThreadMetadata,
  type RenameIntent,
  recordRenameIntent,
  type StateDb,
  storedThreadName,
  writeTransaction,
} from '@skein/state';
import { findThreadNameById, nameOrNone } from '../session-index.js';

/*
 * A rename as one all-or-nothing change of Codex's DB and `session_index.jsonl`, with the index
 * as the commit point. The renamer commits an intent in Skein's sidecar, then in one DB write
 * transaction sets the DB's name, appends to (or, for a clear, rewrites) the index, and commits;
 * then drops the intent. A process killed after the index write and before the DB commit leaves
 * the index new and the DB old, with its intent behind: `settleRenameIntents` (run when a home's
 * state DB opens, and before a thread is read) finds the index at the intent's name and brings
 * the DB there; an index not there means the rename never reached its commit point (the DB
 * transaction did not commit either), so both stay as they were.
 */

/**
 * Records that `threadId` is being renamed to `name` (null or blank: cleared), with what the DB
 * and the index hold now; returns the intent's id (dropped with `dropRenameIntent` once the rename
 * finished or failed), or undefined when the DB has no row to rename or is not written by Skein.
 */
export async function beginRenameIntent(
  db: StateDb,
  codexHome: string,
  threadId: string,
  name: string | null,
): Promise<number | undefined> {
  if (db.readOnlyReason !== null) return undefined;
  const row = await getThread(db.ctx, threadId);
  if (row === undefined) return undefined;
  return recordRenameIntent(db, {
    threadId,
    name: nameOrNone(name),
    dbNameBefore: storedThreadName(db.ctx, row),
    indexNameBefore: await findThreadNameById(codexHome, threadId),
  });
}

/** What `settleRenameIntents` did. */
export interface SettledRenames {
  /** Renames whose DB half was completed (the index had the new name, the DB the old). */
  completed: number;
  /** Intents dropped without a write (nothing to finish, or someone renamed since). */
  dropped: number;
}

/**
 * Settles the renames a dead process left half done (all of them, or one thread's): for each
 * abandoned intent, if the index moved to the intent's name, the DB gets it too — unless the
 * DB's name changed since the intent was written (the rename did commit, or Codex or another
 * process renamed the thread after the crash: their name stays). Then the intent goes. Intents of
 * live processes are left to them. Cheap when there are none: one indexed sidecar query.
 */
export async function settleRenameIntents(
  db: StateDb,
  codexHome: string,
  options: { threadId?: string } = {},
): Promise<SettledRenames> {
  const settled: SettledRenames = { completed: 0, dropped: 0 };
  if (db.readOnlyReason !== null || db.isClosed) return settled;
  const intents = await listRenameIntents(db, options.threadId);
  for (const intent of intents) {
    if (!isRenameIntentAbandoned(intent)) continue;
    if (await completeRename(db, codexHome, intent)) settled.completed += 1;
    else settled.dropped += 1;
    await dropRenameIntent(db, intent.id);
  }
  return settled;
}

async function completeRename(
  db: StateDb,
  codexHome: string,
  intent: RenameIntent,
): Promise<boolean> {
  const indexed = await findThreadNameById(codexHome, intent.threadId);
  // The index holds the intent's name, and did not before: the rename reached its commit point.
  // (An index that already held it cannot tell; the rename then counts as not having happened.)
  const reached = indexed === intent.name && indexed !== intent.indexNameBefore;
  if (!reached) return false;
  // Compared under the write lock, so a rename committing now is seen.
  return writeTransaction(db.ctx, async (trx) => {
    const ctx = { ...db.ctx, db: trx };
    const row = await getThread(ctx, intent.threadId);
    if (row === undefined || storedThreadName(ctx, row) !== intent.dbNameBefore) return false;
    return patchThreadMetadata(ctx, intent.threadId, { name: intent.name });
  });
}
