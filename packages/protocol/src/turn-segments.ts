/**
 * Where a thread's turns start and end, their ids and statuses: the one definition every layer
 * cuts a history with (the store's `listTurns` / `listItems`, the wire's `thread/read` and
 * `thread/turns/list`). The rules are those codex-cli 0.169.0's app-server applies when it
 * rebuilds turns from a rollout, as observed on the real binary:
 *
 * - `task_started` (alias `turn_started`) with a `turn_id` opens an explicit turn; one still in
 *   progress is then interrupted. A start without an id is not a turn start.
 * - `task_complete` (alias `turn_complete`) with a `turn_id` completes the turn of that id, or
 *   the current turn when no turn has it; without an id it closes nothing.
 * - `turn_aborted` interrupts the turn its `turn_id` names (the current turn when it names
 *   none); an id no turn has changes nothing.
 * - A message outside an explicit turn opens an implicit one (`rollout-<ordinal>`, always
 *   `completed`): every user message starts a new implicit turn, a non-empty agent message or
 *   reasoning text outside any turn starts one too. In paginated histories the messages are
 *   `item_completed` items: they join the turn their `turn_id` names, else the current turn,
 *   else an implicit one.
 * - `thread_rolled_back` closes the current turn and drops the last `num_turns` turns.
 * - `error` events do not change a turn's status (0.169 reads them so).
 *
 * An explicit turn still open at the end is `inProgress`: only the caller knows whether the
 * thread is running (the wire reports it `interrupted` otherwise). Every other record belongs to
 * the current turn, if any.
 */

/** One history record: a rollout item's type and payload, with its line ordinal when numbered. */
export interface TurnRecord {
  readonly type: string;
  readonly payload: unknown;
  /** Present on paginated histories' lines; otherwise the record's index stands in for it. */
  readonly ordinal?: number | undefined;
}

/** A turn's status, on the wire and in the store. */
export type TurnStatus = 'completed' | 'interrupted' | 'failed' | 'inProgress';

/** One turn cut from a history: id, status, times and the records that belong to it. */
export interface TurnSegment {
  turnId: string;
  rootTurnId: string | null;
  /** Opened by a turn start event (false for the implicit turns of old histories). */
  explicit: boolean;
  status: TurnStatus;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  /** Index (among the records handed in) of the record that opened the turn. */
  startIndex: number;
  /** Ordinal of that record: its `ordinal`, else its index. */
  startOrdinal: number;
  /** Indexes of the records that belong to the turn, in history order. */
  recordIndexes: number[];
  /**
   * Index of the completion or abort that last closed the turn; null when none did (still open,
   * or ended only by a later start or a rollback).
   */
  closeIndex: number | null;
}

/** A history cut into turns, oldest first. */
export interface TurnSegmentation {
  turns: TurnSegment[];
  /** For each record (by index), the turn it belongs to, or null. */
  turnOfRecord: (TurnSegment | null)[];
  /** Written in 0.169's paginated shape (messages are `item_completed` items). */
  paginated: boolean;
}

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOr(value: unknown, fallback: number | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** True when the history was written in 0.169's paginated shape. */
export function isPaginatedHistory(records: readonly TurnRecord[]): boolean {
  for (const record of records) {
    const payload = asRecord(record.payload);
    if (record.type === 'session_meta' && payload?.history_mode === 'paginated') return true;
    if (record.type === 'event_msg' && payload?.type === 'item_completed') return true;
  }
  return false;
}

const TURN_STARTS = new Set(['task_started', 'turn_started']);

/** The turn id a record opens an explicit turn with (a turn start event with an id), else null. */
export function turnStartId(record: TurnRecord): string | null {
  if (record.type !== 'event_msg') return null;
  const payload = asRecord(record.payload);
  const kind = payload?.type;
  if (typeof kind !== 'string' || !TURN_STARTS.has(kind)) return null;
  return typeof payload?.turn_id === 'string' ? payload.turn_id : null;
}
const TURN_COMPLETES = new Set(['task_complete', 'turn_complete']);
/** Legacy events that carry content and so open an implicit turn when none is open. */
const CONTENT_EVENTS: Readonly<Record<string, string>> = {
  agent_message: 'message',
  agent_reasoning: 'text',
  agent_reasoning_raw_content: 'text',
};

/** Cuts a history into turns (see the module header for the rules). */
export function segmentTurns(records: readonly TurnRecord[]): TurnSegmentation {
  const paginated = isPaginatedHistory(records);
  let turns: TurnSegment[] = [];
  let current: TurnSegment | null = null;

  const finishCurrent = () => {
    if (current?.status === 'inProgress') current.status = 'interrupted';
    current = null;
  };
  const open = (index: number, explicit: boolean, payload: Json | null): TurnSegment => {
    finishCurrent();
    const ordinal = records[index]?.ordinal ?? index;
    const turn: TurnSegment = {
      turnId: explicit ? String(payload?.turn_id) : `rollout-${ordinal}`,
      rootTurnId: explicit ? stringOrNull(payload?.root_turn_id) : null,
      explicit,
      status: explicit ? 'inProgress' : 'completed',
      startedAt: explicit ? numberOr(payload?.started_at, null) : null,
      completedAt: null,
      durationMs: null,
      startIndex: index,
      startOrdinal: ordinal,
      recordIndexes: [],
      closeIndex: null,
    };
    turns.push(turn);
    current = turn;
    return turn;
  };
  const byId = (turnId: string): TurnSegment | null => {
    if (current?.turnId === turnId) return current;
    for (let i = turns.length - 1; i >= 0; i -= 1) {
      if (turns[i]?.turnId === turnId) return turns[i] as TurnSegment;
    }
    return null;
  };
  const close = (turn: TurnSegment, status: TurnStatus, payload: Json, index: number) => {
    turn.status = status;
    turn.closeIndex = index;
    turn.completedAt = numberOr(payload.completed_at, turn.completedAt);
    turn.durationMs = numberOr(payload.duration_ms, turn.durationMs);
    if (turn === current) current = null;
  };

  /** The turn a record belongs to, opening or closing turns as it says. */
  const place = (record: TurnRecord, index: number): TurnSegment | null => {
    const payload = record.type === 'event_msg' ? asRecord(record.payload) : null;
    const kind = typeof payload?.type === 'string' ? payload.type : null;
    if (payload === null || kind === null) return current;
    if (TURN_STARTS.has(kind)) {
      return turnStartId(record) !== null ? open(index, true, payload) : current;
    }
    if (TURN_COMPLETES.has(kind)) {
      if (typeof payload.turn_id !== 'string') return current;
      const target = byId(payload.turn_id) ?? current;
      if (target !== null) close(target, 'completed', payload, index);
      return target;
    }
    if (kind === 'turn_aborted') {
      const target = typeof payload.turn_id === 'string' ? byId(payload.turn_id) : current;
      if (target === null) return current;
      close(target, 'interrupted', payload, index);
      return target;
    }
    if (kind === 'thread_rolled_back') {
      finishCurrent();
      const count = numberOr(payload.num_turns, 0) ?? 0;
      if (count > 0) turns = turns.slice(0, Math.max(0, turns.length - Math.trunc(count)));
      return null;
    }
    if (kind === 'item_completed') {
      if (asRecord(payload.item) === null) return current;
      const byTurnId = typeof payload.turn_id === 'string' ? byId(payload.turn_id) : null;
      return byTurnId ?? current ?? open(index, false, null);
    }
    if (paginated) return current;
    if (kind === 'user_message') {
      return current?.explicit === true ? current : open(index, false, null);
    }
    const field = CONTENT_EVENTS[kind];
    if (field !== undefined && current === null) {
      const text = payload[field];
      if (typeof text === 'string' && text !== '') return open(index, false, null);
    }
    return current;
  };

  const owners = records.map((record, index) => {
    const turn = place(record, index);
    turn?.recordIndexes.push(index);
    return turn;
  });
  // Records of turns a rollback dropped belong to no turn.
  const kept = new Set(turns);
  const turnOfRecord = owners.map((turn) => (turn !== null && kept.has(turn) ? turn : null));
  return { turns, turnOfRecord, paginated };
}
