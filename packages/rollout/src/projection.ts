import type { ProjectedItem, ProjectedTurn, ProjectionState, ProjectionUpdate } from '@skein/state';
import { forEachRolloutLineRange } from './lines.js';
import { turnItemJson } from './turn-item-json.js';

/**
 * Codex 0.169's paginated history projection, computed from rollout lines (spec
 * codex-db-effects §4): one turn row per `task_started` (closed at `task_complete`), one item
 * row per `item_completed` (its v2 item JSON), and the state — how far the file is projected —
 * advanced by every line. A projector is fed the lines of one thread's own file in order, with
 * their ordinals and byte ranges, and returns the rows to upsert. It remembers the turns still
 * open, so a turn closed by a later append updates its row.
 * It keeps its own turn rule rather than protocol's `segmentTurns`: this is what the binary
 * writes to its DB, line by line as it appends (no implicit turns, no rollbacks), not how turns
 * are read back.
 */
export interface ProjectableLine {
  /** The line's item (`type` + `payload`). */
  item: { type: string; payload: unknown };
  ordinal: number;
  /** Byte offset of the line's first byte in the file. */
  start: number;
  /** Byte offset just past the line's `\n`. */
  end: number;
}

type Json = Record<string, unknown>;

const asRecord = (value: unknown): Json | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Projects the lines of a Codex 0.169 paginated rollout into `thread_history_1.sqlite`'s turns and
 * items, as Codex does, line by line from where the projection state stands.
 */
export class HistoryProjector {
  /** Turns opened and not yet closed, by id. */
  private readonly open = new Map<string, ProjectedTurn>();
  private lastOpen: string | null = null;
  private state: ProjectionState;

  constructor(state: ProjectionState, openTurns: readonly ProjectedTurn[] = []) {
    this.state = { ...state };
    for (const turn of openTurns) {
      if (turn.rolloutEndOrdinal !== null) continue;
      this.open.set(turn.turnId, { ...turn });
      this.lastOpen = turn.turnId;
    }
  }

  get projected(): ProjectionState {
    return { ...this.state };
  }

  /**
   * The rows for `lines` (which must continue where the projection stands). Lines before the
   * projected offset are skipped, so a batch that was partly projected already is safe to
   * feed again.
   */
  project(lines: readonly ProjectableLine[]): ProjectionUpdate {
    const expected = { ...this.state };
    const turns = new Map<string, ProjectedTurn>();
    const items: ProjectedItem[] = [];
    for (const line of lines) {
      if (line.start < this.state.nextByteOffset) continue;
      this.apply(line, turns, items);
      this.state = { nextByteOffset: line.end, nextOrdinal: line.ordinal + 1 };
    }
    return { turns: [...turns.values()], items, state: { ...this.state }, expected };
  }

  private turnFor(turnId: string | null): ProjectedTurn | undefined {
    if (turnId !== null) return this.open.get(turnId);
    return this.lastOpen === null ? undefined : this.open.get(this.lastOpen);
  }

  private apply(
    line: ProjectableLine,
    touched: Map<string, ProjectedTurn>,
    items: ProjectedItem[],
  ): void {
    if (line.item.type !== 'event_msg') return;
    const payload = asRecord(line.item.payload);
    if (payload === null) return;
    const turnId = str(payload.turn_id);
    switch (payload.type) {
      case 'task_started':
      case 'turn_started': {
        if (turnId === null) return;
        const turn: ProjectedTurn = {
          turnId,
          rolloutOrdinal: line.ordinal,
          rolloutByteOffset: line.start,
          status: 'inProgress',
          errorJson: null,
          startedAt: num(payload.started_at),
          completedAt: null,
          durationMs: null,
          firstUserItemId: null,
          finalAgentItemId: null,
          rolloutEndOrdinal: null,
          rolloutEndByteOffset: null,
          rootTurnId: str(payload.root_turn_id) ?? turnId,
        };
        this.open.set(turnId, turn);
        this.lastOpen = turnId;
        touched.set(turnId, turn);
        return;
      }
      case 'item_completed': {
        const converted = turnItemJson(payload.item);
        const item = asRecord(payload.item);
        if (converted === null || item === null) return;
        const owner = turnId ?? this.lastOpen;
        if (owner === null) return;
        const startedAtMs = num(payload.started_at_ms);
        const completedAtMs = num(payload.completed_at_ms);
        items.push({
          turnId: owner,
          itemId: String(item.id),
          rolloutOrdinal: line.ordinal,
          createdAtMs: startedAtMs ?? completedAtMs ?? 0,
          itemJson: JSON.stringify(converted.json),
          itemType: converted.itemType,
          updatedAtOrdinal: line.ordinal,
          startedAtMs,
          completedAtMs,
        });
        const turn = this.turnFor(owner);
        if (turn === undefined) return;
        if (converted.itemType === 'userMessage' && turn.firstUserItemId === null) {
          turn.firstUserItemId = String(item.id);
        }
        if (converted.itemType === 'agentMessage') turn.finalAgentItemId = String(item.id);
        touched.set(turn.turnId, turn);
        return;
      }
      case 'error': {
        const turn = this.turnFor(turnId);
        if (turn === undefined) return;
        turn.status = 'failed';
        turn.errorJson = JSON.stringify({
          message: str(payload.message) ?? '',
          codexErrorInfo: payload.codex_error_info ?? null,
          additionalDetails: null,
        });
        touched.set(turn.turnId, turn);
        return;
      }
      case 'task_complete':
      case 'turn_complete':
      case 'turn_aborted': {
        const turn = this.turnFor(turnId);
        if (turn === undefined) return;
        if (payload.type === 'turn_aborted') turn.status = 'interrupted';
        else if (turn.status !== 'failed') turn.status = 'completed';
        turn.completedAt = num(payload.completed_at) ?? turn.completedAt;
        turn.durationMs = num(payload.duration_ms) ?? turn.durationMs;
        turn.rolloutEndOrdinal = line.ordinal;
        turn.rolloutEndByteOffset = line.end;
        touched.set(turn.turnId, turn);
        this.open.delete(turn.turnId);
        if (this.lastOpen === turn.turnId) this.lastOpen = null;
        return;
      }
      default:
        return;
    }
  }
}

/**
 * The complete lines of a paginated rollout from `fromOffset` on, with their ordinals and byte
 * ranges. A torn last line (no `\n` yet) and lines without an ordinal are left out: they are
 * not part of the paginated history (yet).
 */
export async function readProjectableLines(
  path: string,
  fromOffset = 0,
): Promise<ProjectableLine[]> {
  const out: ProjectableLine[] = [];
  await forEachRolloutLineRange(path, (data, start, end, offset, terminated) => {
    if (offset < fromOffset || !terminated) return;
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8', start, end));
    } catch {
      return;
    }
    const line = asRecord(value);
    const ordinal = num(line?.ordinal);
    if (line === null || ordinal === null || typeof line.type !== 'string') return;
    // Codex writes `\n` line ends; the next line starts right after it.
    out.push({
      item: { type: line.type, payload: line.payload },
      ordinal,
      start: offset,
      end: offset + (end - start) + 1,
    });
  });
  return out;
}
