import { StateError } from '../errors.js';
import type { HistoryDb } from '../history-db.js';

/**
 * Doctor's repair of a projection that runs ahead of its rollout (the file was truncated or
 * replaced by a shorter one): removes the turn and item rows at or past `fromOrdinal`, which
 * no line of the file backs any more. The projection state and the rows before it are left
 * for the caller to re-project over (upserts), so nothing else of the thread's projection —
 * realtime items in particular, which go with the state row — is lost. Returns rows removed.
 */
export function dropProjectionRowsFrom(
  history: HistoryDb,
  threadId: string,
  fromOrdinal: number,
): number {
  if (history.readOnlyReason !== null) {
    throw new StateError(
      'ReadOnly',
      `history DB is read-only for Skein: ${history.readOnlyReason}`,
    );
  }
  const sqlite = history.sqlite;
  return sqlite
    .transaction(() => {
      const items = sqlite
        .prepare('delete from thread_items where thread_id = ? and rollout_ordinal >= ?')
        .run(threadId, fromOrdinal).changes;
      const turns = sqlite
        .prepare('delete from thread_turns where thread_id = ? and rollout_ordinal >= ?')
        .run(threadId, fromOrdinal).changes;
      return items + turns;
    })
    .immediate();
}

/** Every thread id with a projection state row (to find projections no thread backs). */
export function projectedThreadIds(history: HistoryDb): string[] {
  return (
    history.sqlite.prepare('select thread_id from thread_history_projection_state').all() as {
      thread_id: string;
    }[]
  ).map((row) => row.thread_id);
}

/** The keys of a thread's projected rows: `turnId@ordinal` and `turnId/itemId@ordinal`. */
export function projectionKeys(
  history: HistoryDb,
  threadId: string,
): { turns: Set<string>; items: Set<string> } {
  const turns = history.sqlite
    .prepare('select turn_id, rollout_ordinal from thread_turns where thread_id = ?')
    .all(threadId) as { turn_id: string; rollout_ordinal: number }[];
  const items = history.sqlite
    .prepare('select turn_id, item_id, rollout_ordinal from thread_items where thread_id = ?')
    .all(threadId) as { turn_id: string; item_id: string; rollout_ordinal: number }[];
  return {
    turns: new Set(turns.map((row) => `${row.turn_id}@${Number(row.rollout_ordinal)}`)),
    items: new Set(
      items.map((row) => `${row.turn_id}/${row.item_id}@${Number(row.rollout_ordinal)}`),
    ),
  };
}
