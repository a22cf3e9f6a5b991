import type { Database } from 'better-sqlite3';
import type { ThreadsProfile } from '../profile.js';
import { SIDECAR_SCHEMA } from './recency.js';

/**
 * Hands the read receipts Skein kept for a Codex 0.131 DB over to Codex's own table once a newer
 * Codex has migrated the DB (0.169 adds `thread_read_receipts`, empty): each thread that still
 * exists and has no receipt of Codex's gets Skein's, so what a user marked read stays read after
 * the upgrade; Codex's own receipts win. The sidecar's copies (and its recency, which the
 * migrated column now holds) are dropped in the same transaction, so the hand-over happens once.
 * Runs whenever Skein meets such a DB: at open, and when Codex migrates it under a running
 * Skein. Returns how many receipts were handed over.
 */
export function handOverSidecarStandIns(
  sqlite: Database,
  sidecarPath: string,
  profile: ThreadsProfile,
): number {
  const writable = profile.layout === 'codex' && profile.readOnlyReason === null;
  if (!writable || !profile.tables.has('thread_read_receipts')) return 0;
  if (!profile.columns.has('recency_at_ms')) return 0;
  const attachedBefore = isSidecarAttached(sqlite);
  if (!attachedBefore) sqlite.prepare(`attach database ? as ${SIDECAR_SCHEMA}`).run(sidecarPath);
  try {
    const tables = new Set(
      sqlite
        .prepare(`select name from ${SIDECAR_SCHEMA}.sqlite_master where type = 'table'`)
        .pluck()
        .all() as string[],
    );
    if (!tables.has('thread_read_receipts')) return 0;
    // Nothing to hand over (every open after the first): no write transaction, which would take
    // Codex's DB's write lock at each open and wait out a writer of either file.
    const holdsAny = sqlite
      .prepare(`select 1 from ${SIDECAR_SCHEMA}.thread_read_receipts limit 1`)
      .get();
    if (holdsAny === undefined) return 0;
    const hand = sqlite.transaction(() => {
      const held = sqlite
        .prepare(`select count(*) from ${SIDECAR_SCHEMA}.thread_read_receipts`)
        .pluck()
        .get() as number;
      if (held === 0) return 0;
      const moved = sqlite
        .prepare(
          `insert into main.thread_read_receipts
             (thread_id, first_unread_turn, revision, last_published_turn)
           select s.thread_id, s.first_unread_turn, s.revision, s.last_published_turn
             from ${SIDECAR_SCHEMA}.thread_read_receipts s
            where exists (select 1 from main.threads t where t.id = s.thread_id)
              and not exists (select 1 from main.thread_read_receipts r
                               where r.thread_id = s.thread_id)`,
        )
        .run().changes;
      sqlite.exec(`delete from ${SIDECAR_SCHEMA}.thread_read_receipts`);
      if (tables.has('skein_thread_recency'))
        sqlite.exec(`delete from ${SIDECAR_SCHEMA}.skein_thread_recency`);
      return moved;
    });
    return hand.immediate();
  } finally {
    if (!attachedBefore) sqlite.exec(`detach database ${SIDECAR_SCHEMA}`);
  }
}

/** Whether the sidecar is attached to this connection (as `SIDECAR_SCHEMA`). */
export function isSidecarAttached(sqlite: Database): boolean {
  return (sqlite.pragma('database_list') as { name: string }[]).some(
    (db) => db.name === SIDECAR_SCHEMA,
  );
}
