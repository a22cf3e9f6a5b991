import {
  dropProjectionRowsFrom,
  type HistoryDb,
  type ProjectedTurn,
  type ProjectionState,
  type ProjectionUpdate,
  projectedThreadIds,
  projectionKeys,
} from '@skein/state';
import { forEachRolloutLineRange } from '../lines.js';
import { HistoryProjector, type ProjectableLine } from '../projection.js';
import { ownFileOf } from './rows.js';
import type { HomeFinding, HomeScan, ProjectionFindingKind, ScannedFile } from './types.js';

/**
 * Doctor's check family for Codex 0.169's paginated projection (`thread_history_1.sqlite`):
 * for each paginated rollout, the projection state must stand at the end of the file's last
 * complete line, and every turn and item the file's lines make must have its row (Codex's cold
 * reads trust the rows and never repair them, spec codex-db-effects §4.3). Repairs project the
 * rollout with the rollout package's `HistoryProjector`: what lags is projected from the
 * state's offset on, as a Codex writer does when it opens the thread; a projection with rows
 * missing, or one that runs past its file, is rebuilt from the file.
 */

export type ProjectionFinding = HomeFinding & { kind: ProjectionFindingKind };

/** Lines fed to the projector at once. */
const PROJECT_BATCH = 512;

interface FileProjection {
  /** Where the projection of the whole file ends; null when no line has an ordinal. */
  end: ProjectionState | null;
  turns: Set<string>;
  items: Set<string>;
}

export async function diagnoseProjections(
  scan: HomeScan,
  history: HistoryDb | undefined,
  rowIds: ReadonlySet<string>,
  options: {
    writableReason: string | null;
    /** Why `history` is undefined, as Codex meets it; default: the DB does not exist. */
    absentBecause?: string;
  },
): Promise<ProjectionFinding[]> {
  const findings: ProjectionFinding[] = [];
  const fix = (text: string) => (options.writableReason === null ? text : null);
  for (const id of scan.byThread.keys()) {
    const file = ownFileOf(scan, id);
    if (file === undefined || file.historyMode !== 'paginated') continue;
    const expected = await projectWholeFile(file.file);
    if (expected.end === null) continue;
    const base = { severity: 'error' as const, subject: id, threadId: id, path: file.path };
    const state = history?.projectionState(id);
    const end = expected.end;
    if (state === undefined) {
      findings.push({
        ...base,
        kind: 'projection-missing',
        message: `paginated thread with no projection state in thread_history_1.sqlite (Codex reads${history === undefined ? ` no turns: ${options.absentBecause ?? 'the DB does not exist'}` : ' only the rows there are'})`,
        fix: fix('project the rollout (as a Codex writer does when it opens the thread)'),
      });
      continue;
    }
    const order = compareStates(state, end);
    if (order < 0) {
      findings.push({
        ...base,
        kind: 'projection-behind',
        message: `projection stops at byte ${state.nextByteOffset} (ordinal ${state.nextOrdinal}); the rollout's lines end at ${end.nextByteOffset} (ordinal ${end.nextOrdinal}): Codex does not show what follows`,
        fix: fix('project the lines after the projection state'),
      });
    } else if (order > 0) {
      findings.push({
        ...base,
        kind: 'projection-ahead',
        message: `projection claims byte ${state.nextByteOffset} (ordinal ${state.nextOrdinal}) but the rollout's lines end at ${end.nextByteOffset} (ordinal ${end.nextOrdinal})`,
        fix: fix('rebuild the projection from the rollout'),
      });
    } else if (history !== undefined) {
      const actual = projectionKeys(history, id);
      const missing =
        [...expected.turns].filter((key) => !actual.turns.has(key)).length +
        [...expected.items].filter((key) => !actual.items.has(key)).length;
      if (missing > 0) {
        findings.push({
          ...base,
          kind: 'projection-rows-missing',
          message: `projection state is in step but ${missing} turn/item row${missing === 1 ? ' is' : 's are'} missing (Codex's reads skip them)`,
          fix: fix('rebuild the projection from the rollout'),
        });
      }
    }
  }
  if (history !== undefined) {
    for (const id of projectedThreadIds(history)) {
      if (scan.byThread.has(id) || rowIds.has(id)) continue;
      findings.push({
        kind: 'projection-orphan',
        severity: 'warning',
        subject: id,
        threadId: id,
        message: 'a projection for a thread with no rollout and no row in this home',
        fix: fix('remove it (as Codex’s delete does)'),
      });
    }
  }
  return findings;
}

/** Orders two projection positions (by byte offset, then ordinal). */
function compareStates(a: ProjectionState, b: ProjectionState): number {
  if (a.nextByteOffset !== b.nextByteOffset) return a.nextByteOffset < b.nextByteOffset ? -1 : 1;
  return a.nextOrdinal === b.nextOrdinal ? 0 : a.nextOrdinal < b.nextOrdinal ? -1 : 1;
}

async function projectWholeFile(file: string): Promise<FileProjection> {
  const out: FileProjection = { end: null, turns: new Set(), items: new Set() };
  out.end = await streamProjection(file, null, [], (update) => {
    for (const turn of update.turns) out.turns.add(`${turn.turnId}@${turn.rolloutOrdinal}`);
    for (const item of update.items) {
      out.items.add(`${item.turnId}/${item.itemId}@${item.rolloutOrdinal}`);
    }
  });
  return out;
}

/**
 * Feeds a rollout's complete, ordinal'd lines from `from`'s offset (or the start) to a
 * projector in batches, handing each batch's rows to `apply`. Returns where it ends (null when
 * no line was projectable and there was no start).
 */
async function streamProjection(
  file: string,
  from: ProjectionState | null,
  openTurns: readonly ProjectedTurn[],
  apply: (update: ProjectionUpdate) => void,
): Promise<ProjectionState | null> {
  let projector = from === null ? null : new HistoryProjector(from, openTurns);
  let batch: ProjectableLine[] = [];
  const flush = () => {
    if (projector === null || batch.length === 0) return;
    apply(projector.project(batch));
    batch = [];
  };
  const fromOffset = from?.nextByteOffset ?? 0;
  await forEachRolloutLineRange(file, (data, start, end, offset, terminated) => {
    if (offset < fromOffset || !terminated) return;
    const line = parseOrdinalLine(data.toString('utf8', start, end));
    if (line === null) return;
    // Codex writes `\n` line ends; the next line starts right after it.
    const projectable = { ...line, start: offset, end: offset + (end - start) + 1 };
    projector ??= new HistoryProjector({ nextByteOffset: 0, nextOrdinal: line.ordinal });
    batch.push(projectable);
    if (batch.length >= PROJECT_BATCH) flush();
  });
  flush();
  return projector?.projected ?? null;
}

function parseOrdinalLine(text: string): Omit<ProjectableLine, 'start' | 'end'> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const { ordinal, type, payload } = value as Record<string, unknown>;
  if (typeof ordinal !== 'number' || !Number.isFinite(ordinal) || typeof type !== 'string') {
    return null;
  }
  return { item: { type, payload }, ordinal };
}

/** Applies the fixes of `findings` (from `diagnoseProjections` on `history`). */
export async function repairProjections(
  scan: HomeScan,
  history: HistoryDb,
  findings: readonly ProjectionFinding[],
): Promise<Map<ProjectionFinding, string>> {
  const errors = new Map<ProjectionFinding, string>();
  for (const finding of findings) {
    const id = finding.threadId;
    if (finding.fix === null || id === undefined) continue;
    try {
      if (finding.kind === 'projection-orphan') {
        history.deleteThread(id);
        continue;
      }
      const file = ownFileOf(scan, id);
      if (file === undefined) throw new Error(`no rollout of ${id} in the home`);
      if (finding.kind === 'projection-missing' || finding.kind === 'projection-behind') {
        await catchUp(history, id, file);
      } else {
        await rebuild(history, id, file);
      }
    } catch (error) {
      errors.set(finding, error instanceof Error ? error.message : String(error));
    }
  }
  return errors;
}

/** Projects what follows the projection state (everything when there is none). */
async function catchUp(history: HistoryDb, threadId: string, file: ScannedFile): Promise<void> {
  const state = history.projectionState(threadId) ?? null;
  const open =
    state === null ? [] : history.turns(threadId).filter((t) => t.rolloutEndOrdinal === null);
  let expected: ProjectionState | null = state;
  await streamProjection(file.file, state, open, (update) => {
    update.expected = expected;
    if (!history.applyProjection(threadId, update)) {
      throw new Error('another process projected this thread meanwhile; run doctor again');
    }
    expected = update.state;
  });
}

/** Drops the thread's turn and item rows and projects the whole file again. */
async function rebuild(history: HistoryDb, threadId: string, file: ScannedFile): Promise<void> {
  let expected: ProjectionState | null = history.projectionState(threadId) ?? null;
  dropProjectionRowsFrom(history, threadId, 0);
  await streamProjection(file.file, null, [], (update) => {
    update.expected = expected;
    if (!history.applyProjection(threadId, update)) {
      throw new Error('another process projected this thread meanwhile; run doctor again');
    }
    expected = update.state;
  });
}
