/** What a thread's rollout file and its paginated projection hold, read straight from disk. */
import { readFileSync, statSync } from 'node:fs';
import { queryCodexDb } from '../../../../../packages/test-support/test/support/codex-db.js';

export interface DiskLine {
  ordinal?: number;
  type: string;
  payload: Record<string, unknown>;
}

export function rolloutLines(path: string): DiskLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DiskLine);
}

/**
 * Problems with a paginated rollout's ordinals and its projection state (codex-db-effects
 * §4.4): every line numbered, contiguously, and the state pointing just past the last line.
 * Empty when all is well.
 */
export function paginatedProblems(home: string, threadId: string, path: string): string[] {
  const problems: string[] = [];
  const lines = rolloutLines(path);
  const ordinals = lines.map((line) => line.ordinal);
  const first = ordinals[0];
  if (typeof first !== 'number') return [`first line has no ordinal (${String(first)})`];
  ordinals.forEach((ordinal, index) => {
    if (ordinal !== first + index) {
      problems.push(`line ${index} has ordinal ${String(ordinal)}, expected ${first + index}`);
    }
  });
  const state = queryCodexDb(
    home,
    'thread_history_1.sqlite',
    `select next_rollout_byte_offset as offset, next_rollout_ordinal as ordinal
       from thread_history_projection_state where thread_id = ?`,
    [threadId],
  )[0];
  const size = statSync(path).size;
  if (state === undefined) {
    problems.push('no projection state row');
  } else {
    if (Number(state.offset) !== size) {
      problems.push(`projection state offset ${String(state.offset)}, file size ${size}`);
    }
    if (Number(state.ordinal) !== first + lines.length) {
      problems.push(
        `projection state ordinal ${String(state.ordinal)}, expected ${first + lines.length}`,
      );
    }
  }
  return problems;
}
