import { sql } from 'kysely';
import { currentLeaseOwner, isLeaseOwnerDead } from '../lease-owner.js';
import type { StateRuntime } from '../runtime.js';
import { isSidecarAttached } from './handover.js';
import { SIDECAR_SCHEMA } from './recency.js';

/*
 * Renames under way, in Skein's sidecar. A rename writes two places that share no transaction:
 * Codex's DB (`threads.name` or `title`) and `session_index.jsonl`. The name index is the commit
 * point: the DB transaction commits only after the index append, so a process killed between
 * the two leaves the index new and the DB old. The intent, committed on its own before either
 * write (a transaction over the DB and the attached sidecar is atomic per file, not across
 * them), lets the next open tell that case from a rename that never reached the index and
 * settle it (`settleRenameIntents` in the rollout package).
 */

/** A rename's intent as stored: what it sets, and what the DB and the index held before. */
export interface RenameIntent {
  id: number;
  threadId: string;
  /** The name being set; null clears it. */
  name: string | null;
  /** `storedThreadName` of the row when the intent was written (null: none). */
  dbNameBefore: string | null;
  /** The thread's current name in the index then (null: none). */
  indexNameBefore: string | null;
  owner: { host: string; pid: number; startToken: string };
  createdAtMs: number;
}

/** What a rename records before it writes (the owner and time are this process's and now). */
export type NewRenameIntent = Pick<
  RenameIntent,
  'threadId' | 'name' | 'dbNameBefore' | 'indexNameBefore'
>;

/**
 * Commits a rename's intent on its own (before the rename writes anything); returns its id.
 *
 * The intent is synced to disk before this returns: the rename's next step, the index append,
 * is fsynced, and an intent that a power cut could take back (the sidecar commits with
 * `synchronous = NORMAL`, which a crash of the process keeps but a power cut may not) would
 * leave a committed index with nothing to bring the DB after it. So the insert runs with the
 * sidecar's schema at `synchronous = FULL`, on a connection held for it alone, and the schema
 * goes back to NORMAL for every other write.
 */
export async function recordRenameIntent(
  runtime: StateRuntime,
  intent: NewRenameIntent,
): Promise<number> {
  const owner = currentLeaseOwner();
  // How a pragma names the sidecar's schema: `skein.` where it is attached to Codex's connection
  // (a 0.131 DB, whose connection then carries the sidecar's statements), nothing on its own.
  const schema = isSidecarAttached(runtime.sqlite) ? `${SIDECAR_SCHEMA}.` : '';
  return runtime.sidecar.connection().execute(async (sidecar) => {
    await sql.raw(`pragma ${schema}synchronous = FULL`).execute(sidecar);
    try {
      const result = await sidecar
        .insertInto('rename_intents')
        .values({
          thread_id: intent.threadId,
          name: intent.name,
          db_name_before: intent.dbNameBefore,
          index_name_before: intent.indexNameBefore,
          owner_host: owner.host,
          owner_pid: owner.pid,
          owner_start_token: owner.startToken,
          created_at_ms: Date.now(),
        })
        .executeTakeFirstOrThrow();
      return Number(result.insertId);
    } finally {
      await sql.raw(`pragma ${schema}synchronous = NORMAL`).execute(sidecar);
    }
  });
}

/** Removes an intent (its rename finished, failed, or was settled). */
export async function dropRenameIntent(runtime: StateRuntime, id: number): Promise<void> {
  await runtime.sidecar.deleteFrom('rename_intents').where('id', '=', id).execute();
}

/** The intents recorded (of one thread, when given), oldest first. */
export async function listRenameIntents(
  runtime: StateRuntime,
  threadId?: string,
): Promise<RenameIntent[]> {
  let query = runtime.sidecar.selectFrom('rename_intents').selectAll().orderBy('id');
  if (threadId !== undefined) query = query.where('thread_id', '=', threadId);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: Number(row.id),
    threadId: row.thread_id,
    name: row.name,
    dbNameBefore: row.db_name_before,
    indexNameBefore: row.index_name_before,
    owner: {
      host: row.owner_host,
      pid: Number(row.owner_pid),
      startToken: row.owner_start_token,
    },
    createdAtMs: Number(row.created_at_ms),
  }));
}

/**
 * How old an intent of a process that may still live (another host's, or one that cannot be
 * proven gone) must be before it is settled anyway: a rename takes milliseconds, and waits at
 * most for the DB's busy timeout and the name index's lock (seconds).
 */
export const RENAME_INTENT_STALE_MS = 10 * 60_000;

/** Whether an intent's rename is over: its process is gone, or it is long past any rename. */
export function isRenameIntentAbandoned(intent: RenameIntent, nowMs = Date.now()): boolean {
  return isLeaseOwnerDead(intent.owner) || nowMs - intent.createdAtMs > RENAME_INTENT_STALE_MS;
}
