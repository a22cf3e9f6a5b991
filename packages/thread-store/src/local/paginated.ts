/**
 * Codex 0.169's paginated history for the local store: the projection into
 * `thread_history_1.sqlite` kept in step with what the store appends, its repair when a writer
 * opens (as Codex's writer does), and where a fork by reference starts.
 *
 * Crash between a rollout write and its projection: the rollout holds the lines and the
 * projection state still points before them; the next writer to open the thread (Skein or
 * Codex) projects them from the state's byte offset. A projection failure never fails an
 * append: the rollout is the truth, the projection is rebuilt from it.
 */
import {
  HistoryProjector,
  type ProjectableLine,
  readProjectableLines,
  type WrittenLine,
} from '@skein/rollout';
import type { HistoryDb, ProjectedTurn, StateDb } from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import type { HistoryBaseRef, ThreadId } from '../types.js';

/** One live paginated writer's projection. */
export class ThreadProjection {
  private constructor(
    private readonly history: HistoryDb,
    readonly threadId: ThreadId,
    private projector: HistoryProjector,
    private readonly path: string,
    private readonly warn: (message: string) => void,
    /** Whether the state row exists (the compare-and-set expects it, or expects none). */
    private stateRowExists: boolean,
  ) {}

  /**
   * For a new file (nothing projected yet). The first write (its `session_meta`) creates the
   * state row.
   */
  static forNewFile(
    stateDb: StateDb,
    threadId: ThreadId,
    path: string,
    firstOrdinal: number,
    warn: (message: string) => void,
  ): ThreadProjection {
    const history = requireHistoryDb(stateDb);
    const projector = new HistoryProjector({ nextByteOffset: 0, nextOrdinal: firstOrdinal });
    return new ThreadProjection(history, threadId, projector, path, warn, false);
  }

  /**
   * For an existing file: repairs the projection first (what was appended after the state's
   * offset, or everything when there is no state), then returns it with the ordinal the next
   * appended line takes.
   */
  static async open(
    stateDb: StateDb,
    threadId: ThreadId,
    path: string,
    warn: (message: string) => void,
  ): Promise<{ projection: ThreadProjection; nextOrdinal: number }> {
    const history = requireHistoryDb(stateDb);
    const state = history.projectionState(threadId);
    const lines = await readProjectableLines(path, state?.nextByteOffset ?? 0);
    const projector = state
      ? new HistoryProjector(state, openTurns(history.turns(threadId)))
      : new HistoryProjector({ nextByteOffset: 0, nextOrdinal: lines[0]?.ordinal ?? 0 });
    const projection = new ThreadProjection(
      history,
      threadId,
      projector,
      path,
      warn,
      state !== undefined,
    );
    if (lines.length > 0) projection.apply(lines);
    const nextOrdinal = projection.projector.projected.nextOrdinal;
    return { projection, nextOrdinal };
  }

  /** The recorder's `onWritten` listener. */
  readonly onWritten = (lines: readonly WrittenLine[]): void => {
    const projectable: ProjectableLine[] = [];
    for (const line of lines) {
      if (line.ordinal === null) continue;
      projectable.push({
        item: line.item,
        ordinal: line.ordinal,
        start: line.start,
        end: line.end,
      });
    }
    if (projectable.length > 0) this.apply(projectable);
  };

  private apply(lines: readonly ProjectableLine[]): void {
    try {
      const update = this.projector.project(lines);
      if (!this.stateRowExists) update.expected = null;
      if (this.history.applyProjection(this.threadId, update)) {
        this.stateRowExists = true;
        return;
      }
      // Another process projected this thread meanwhile: start over from what it wrote.
      void this.resync();
    } catch (error) {
      this.warn(
        `failed to project paginated history of ${this.threadId} (repaired when it is next opened): ${message(error)}`,
      );
    }
  }

  private async resync(): Promise<void> {
    try {
      const state = this.history.projectionState(this.threadId);
      const lines = await readProjectableLines(this.path, state?.nextByteOffset ?? 0);
      this.projector = state
        ? new HistoryProjector(state, openTurns(this.history.turns(this.threadId)))
        : new HistoryProjector({ nextByteOffset: 0, nextOrdinal: lines[0]?.ordinal ?? 0 });
      const update = this.projector.project(lines);
      if (state === undefined) update.expected = null;
      if (this.history.applyProjection(this.threadId, update)) this.stateRowExists = true;
    } catch (error) {
      this.warn(`failed to resync the projection of ${this.threadId}: ${message(error)}`);
    }
  }
}

function openTurns(turns: readonly ProjectedTurn[]): ProjectedTurn[] {
  return turns.filter((turn) => turn.rolloutEndOrdinal === null);
}

function requireHistoryDb(stateDb: StateDb): HistoryDb {
  const history = stateDb.historyDb({ create: true });
  if (history === undefined) {
    throw ThreadStoreError.invalidRequest(
      'paginated history needs a Codex 0.169 state DB in this home',
    );
  }
  return history;
}

/**
 * Where a fork by reference of `sourcePath`'s thread starts: the source's end now, or — with
 * `afterTurnId` — the end of that turn (found in the source's own file; a turn it inherited
 * is looked up in its base, which the fork then references directly).
 */
export async function paginatedForkBase(
  sourceId: ThreadId,
  sourcePath: string,
  afterTurnId: string | undefined,
  locate: (threadId: ThreadId) => Promise<string | null>,
): Promise<HistoryBaseRef> {
  let threadId = sourceId;
  let path = sourcePath;
  for (let depth = 0; depth < 16; depth += 1) {
    const lines = await readProjectableLines(path);
    const last = lines.at(-1);
    if (last === undefined) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} has no paginated history`);
    }
    if (afterTurnId === undefined) {
      return { threadId, endOrdinalExclusive: last.ordinal + 1, endByteOffset: last.end };
    }
    const end = lines.find((line) => {
      const payload = line.item.payload as { type?: unknown; turn_id?: unknown } | null;
      return (
        line.item.type === 'event_msg' &&
        (payload?.type === 'task_complete' || payload?.type === 'turn_aborted') &&
        payload.turn_id === afterTurnId
      );
    });
    if (end !== undefined) {
      return { threadId, endOrdinalExclusive: end.ordinal + 1, endByteOffset: end.end };
    }
    const meta = lines[0]?.item.payload as { history_base?: { thread_id?: unknown } } | undefined;
    const baseId = meta?.history_base?.thread_id;
    if (typeof baseId !== 'string') break;
    const basePath = await locate(baseId.toLowerCase() as ThreadId);
    if (basePath === null) break;
    threadId = baseId.toLowerCase() as ThreadId;
    path = basePath;
  }
  throw ThreadStoreError.invalidRequest(`turn not found: ${afterTurnId}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
