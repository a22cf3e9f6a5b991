import type { Database } from 'better-sqlite3';
import { StateError } from './errors.js';

/**
 * Codex 0.169's paginated history projection (`thread_history_1.sqlite`, spec
 * codex-db-effects §4): per thread, one `thread_turns` row per turn and one `thread_items` row
 * per completed item, located by rollout ordinal and byte offset in the thread's own file, and
 * `thread_history_projection_state` = how far the file has been projected. Codex's cold reads
 * trust these rows, so whoever appends to a paginated rollout must project what it appended in
 * step. Offsets are relative to the thread's own rollout; no path is stored.
 */
export interface ProjectedTurn {
  turnId: string;
  rolloutOrdinal: number;
  rolloutByteOffset: number;
  status: string;
  errorJson: string | null;
  /** Seconds. */
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  firstUserItemId: string | null;
  finalAgentItemId: string | null;
  rolloutEndOrdinal: number | null;
  rolloutEndByteOffset: number | null;
  rootTurnId: string | null;
}

/**
 * One completed item of a paginated thread as projected: its turn, id, rollout ordinal and byte
 * range, kind and JSON.
 */
export interface ProjectedItem {
  turnId: string;
  itemId: string;
  rolloutOrdinal: number;
  createdAtMs: number;
  /** The app-server v2 ThreadItem JSON. */
  itemJson: string;
  itemType: string;
  updatedAtOrdinal: number;
  startedAtMs: number | null;
  completedAtMs: number | null;
}

/** How far a thread's rollout has been projected: the byte offset and ordinal of the next line. */
export interface ProjectionState {
  nextByteOffset: number;
  nextOrdinal: number;
}

/**
 * What one projection step writes for a thread, in one transaction: turns and items upserted and
 * the new projection state.
 */
export interface ProjectionUpdate {
  turns: readonly ProjectedTurn[];
  items: readonly ProjectedItem[];
  state: ProjectionState;
  /** The state the update was computed from (compare-and-set; null = no row expected). */
  expected?: ProjectionState | null;
}

/**
 * Codex 0.169's `thread_history_1.sqlite` (from `runtime.historyDb()`): read a thread's projection
 * state, turns and items; apply a projection step; delete a thread's rows.
 */
export class HistoryDb {
  private closed = false;

  constructor(
    readonly sqlite: Database,
    /** Null when Skein may write it. */
    readonly readOnlyReason: string | null,
  ) {}

  projectionState(threadId: string): ProjectionState | undefined {
    const row = this.sqlite
      .prepare(
        `select next_rollout_byte_offset as b, next_rollout_ordinal as o
           from thread_history_projection_state where thread_id = ?`,
      )
      .get(threadId) as { b: number; o: number } | undefined;
    return row ? { nextByteOffset: Number(row.b), nextOrdinal: Number(row.o) } : undefined;
  }

  turns(threadId: string): ProjectedTurn[] {
    return (
      this.sqlite
        .prepare('select * from thread_turns where thread_id = ? order by rollout_ordinal')
        .all(threadId) as Record<string, unknown>[]
    ).map((row) => ({
      turnId: String(row.turn_id),
      rolloutOrdinal: Number(row.rollout_ordinal),
      rolloutByteOffset: Number(row.rollout_byte_offset ?? 0),
      status: String(row.status),
      errorJson: (row.error_json as string | null) ?? null,
      startedAt: nullableNumber(row.started_at),
      completedAt: nullableNumber(row.completed_at),
      durationMs: nullableNumber(row.duration_ms),
      firstUserItemId: (row.first_user_item_id as string | null) ?? null,
      finalAgentItemId: (row.final_agent_item_id as string | null) ?? null,
      rolloutEndOrdinal: nullableNumber(row.rollout_end_ordinal),
      rolloutEndByteOffset: nullableNumber(row.rollout_end_byte_offset),
      rootTurnId: (row.root_turn_id as string | null) ?? null,
    }));
  }

  items(threadId: string): ProjectedItem[] {
    return (
      this.sqlite
        .prepare('select * from thread_items where thread_id = ? order by rollout_ordinal')
        .all(threadId) as Record<string, unknown>[]
    ).map((row) => ({
      turnId: String(row.turn_id),
      itemId: String(row.item_id),
      rolloutOrdinal: Number(row.rollout_ordinal),
      createdAtMs: Number(row.created_at_ms),
      itemJson: String(row.item_json),
      itemType: String(row.item_type),
      updatedAtOrdinal: Number(row.updated_at_ordinal),
      startedAtMs: nullableNumber(row.started_at_ms),
      completedAtMs: nullableNumber(row.completed_at_ms),
    }));
  }

  /**
   * Writes a projection step in one transaction: turn rows upserted (a turn closed by a later
   * line updates its row), item rows upserted, the state moved on. With `expected`, the step
   * applies only if the state is still what it was computed from (false otherwise: another
   * process projected meanwhile; the caller re-reads and recomputes).
   */
  applyProjection(threadId: string, update: ProjectionUpdate): boolean {
    this.assertWritable();
    const upsertTurn = this.sqlite.prepare(
      `insert into thread_turns (thread_id, turn_id, rollout_ordinal, status, error_json,
         started_at, completed_at, duration_ms, first_user_item_id, final_agent_item_id,
         rollout_byte_offset, rollout_end_ordinal, rollout_end_byte_offset, root_turn_id)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (thread_id, turn_id) do update set
         status = excluded.status, error_json = excluded.error_json,
         started_at = excluded.started_at, completed_at = excluded.completed_at,
         duration_ms = excluded.duration_ms, first_user_item_id = excluded.first_user_item_id,
         final_agent_item_id = excluded.final_agent_item_id,
         rollout_end_ordinal = excluded.rollout_end_ordinal,
         rollout_end_byte_offset = excluded.rollout_end_byte_offset,
         root_turn_id = excluded.root_turn_id`,
    );
    const upsertItem = this.sqlite.prepare(
      `insert into thread_items (thread_id, turn_id, item_id, rollout_ordinal, created_at_ms,
         item_json, item_type, updated_at_ordinal, started_at_ms, completed_at_ms)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (thread_id, turn_id, item_id) do update set
         item_json = excluded.item_json, item_type = excluded.item_type,
         updated_at_ordinal = excluded.updated_at_ordinal,
         completed_at_ms = excluded.completed_at_ms`,
    );
    const setState = this.sqlite.prepare(
      `insert into thread_history_projection_state
         (thread_id, next_rollout_byte_offset, next_rollout_ordinal) values (?, ?, ?)
       on conflict (thread_id) do update set
         next_rollout_byte_offset = excluded.next_rollout_byte_offset,
         next_rollout_ordinal = excluded.next_rollout_ordinal`,
    );
    const run = this.sqlite.transaction((): boolean => {
      if (update.expected !== undefined) {
        const current = this.projectionState(threadId) ?? null;
        const same =
          current === null
            ? update.expected === null
            : update.expected !== null &&
              current.nextByteOffset === update.expected.nextByteOffset &&
              current.nextOrdinal === update.expected.nextOrdinal;
        if (!same) return false;
      }
      for (const turn of update.turns) {
        upsertTurn.run(
          threadId,
          turn.turnId,
          turn.rolloutOrdinal,
          turn.status,
          turn.errorJson,
          turn.startedAt,
          turn.completedAt,
          turn.durationMs,
          turn.firstUserItemId,
          turn.finalAgentItemId,
          turn.rolloutByteOffset,
          turn.rolloutEndOrdinal,
          turn.rolloutEndByteOffset,
          turn.rootTurnId,
        );
      }
      for (const item of update.items) {
        upsertItem.run(
          threadId,
          item.turnId,
          item.itemId,
          item.rolloutOrdinal,
          item.createdAtMs,
          item.itemJson,
          item.itemType,
          item.updatedAtOrdinal,
          item.startedAtMs,
          item.completedAtMs,
        );
      }
      setState.run(threadId, update.state.nextByteOffset, update.state.nextOrdinal);
      return true;
    });
    return run.immediate();
  }

  /** Removes a thread's projection (rows and state; realtime items go by Codex's trigger). */
  deleteThread(threadId: string): void {
    this.assertWritable();
    this.sqlite
      .transaction(() => {
        this.sqlite.prepare('delete from thread_items where thread_id = ?').run(threadId);
        this.sqlite.prepare('delete from thread_turns where thread_id = ?').run(threadId);
        this.sqlite
          .prepare('delete from thread_history_projection_state where thread_id = ?')
          .run(threadId);
      })
      .immediate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // another process may hold it
    }
    this.sqlite.close();
  }

  private assertWritable(): void {
    if (this.closed) throw new StateError('Closed', 'history DB is closed');
    if (this.readOnlyReason !== null) {
      throw new StateError('ReadOnly', `history DB is read-only for Skein: ${this.readOnlyReason}`);
    }
  }
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
