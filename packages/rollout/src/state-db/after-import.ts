import { inheritFirstUserMessage, patchThreadMetadata, type StateRuntime } from '@skein/state';
import { resolveRolloutFile } from '../layout.js';
import { HistoryProjector, readProjectableLines } from '../projection.js';
import { readSessionIndexNames } from '../session-index.js';

/* What a first import does once every row is in (see `runBackfill`). */

/**
 * A DB rebuilt after corruption lost the names only it held; the session index keeps every
 * name Codex or Skein set, so they are written back (where the schema keeps each thread's
 * name, as a rename does). Codex's own first backfill leaves names to the index; a recovery
 * must not lose what was stored.
 */
export async function restoreIndexNames(runtime: StateRuntime, codexHome: string): Promise<void> {
  const names = await readSessionIndexNames(codexHome);
  for (const [id, name] of names) {
    if (name.trim() !== '') await patchThreadMetadata(runtime.ctx, id, { name });
  }
}

/**
 * Paginated threads imported into a 0.169 DB get the history projection Codex's cold reads
 * trust (a home that lost its DBs would otherwise show them without turns until a writer
 * reopens each). Threads that already have one (their DB survived) are left as they are.
 */
export async function projectPaginatedHistories(
  runtime: StateRuntime,
  threads: readonly { id: string; path: string }[],
): Promise<void> {
  if (threads.length === 0 || !runtime.writesPaginatedHistory) return;
  const history = runtime.historyDb({ create: true });
  if (history === undefined || history.readOnlyReason !== null) return;
  for (const { id, path } of threads) {
    if (history.projectionState(id) !== undefined) continue;
    try {
      const file = (await resolveRolloutFile(path)) ?? path;
      const lines = await readProjectableLines(file);
      const first = lines[0];
      if (first === undefined) continue;
      const update = new HistoryProjector({
        nextByteOffset: 0,
        nextOrdinal: first.ordinal,
      }).project(lines);
      history.applyProjection(id, { ...update, expected: null });
    } catch {
      // A thread whose projection could not be built reads as Codex's own would (no rows);
      // the next writer to open it builds it, and doctor reports it meanwhile.
    }
  }
}

/**
 * Forks by reference take their base's preview. Repeated so a fork of a fork gets its root's
 * text (bounded by the chain depth we accept).
 */
export async function inheritBasePreviews(
  runtime: StateRuntime,
  forks: readonly { id: string; baseId: string }[],
): Promise<void> {
  for (let round = 0; round < Math.min(8, forks.length); round += 1) {
    let changed = 0;
    for (const { id, baseId } of forks) {
      if (await inheritFirstUserMessage(runtime.ctx, id, baseId)) changed += 1;
    }
    if (changed === 0) return;
  }
}
