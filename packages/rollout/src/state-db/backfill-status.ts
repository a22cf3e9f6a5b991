import { existsSync } from 'node:fs';
import { readBackfillState, resetBackfill, StateRuntime, stateDbPath } from '@skein/state';

/*
 * The backfill's bookkeeping in a home's state DB, for the commands that report or restart it
 * (`skein backfill`, `skein reindex`). They open the DB through here, never SQLite themselves.
 */

/** Where a home's backfill stands: its status, files imported and failed, and a read-only reason. */
export interface BackfillSummary {
  /** `pending`, `running` or `complete`. */
  status: string;
  filesDone: number;
  filesFailed: number;
  /** Why Skein does not write this home's DB (a schema it does not know), if so. */
  readOnlyReason: string | null;
}

/**
 * The home's backfill summary; null when the home has no state DB yet. Imports nothing.
 * `sqliteHome` is the directory of the home's DBs (`resolveSqliteHome`).
 */
export async function readBackfillSummary(sqliteHome: string): Promise<BackfillSummary | null> {
  if (!existsSync(stateDbPath(sqliteHome))) return null;
  const runtime = await StateRuntime.open({ sqliteHome });
  try {
    const state = await readBackfillState(runtime);
    return {
      status: state.status,
      filesDone: state.filesDone,
      filesFailed: state.filesFailed,
      readOnlyReason: runtime.readOnlyReason,
    };
  } finally {
    await runtime.close();
  }
}

/**
 * Marks the home's backfill as not done, so the next `initStateDb` re-reads every rollout into
 * the index (names and other explicit metadata are kept by its upsert). Nothing to do when the
 * home has no state DB: the first open imports everything anyway. `sqliteHome` is the directory
 * of the home's DBs (`resolveSqliteHome`).
 */
export async function requestReindex(sqliteHome: string, defaultProvider?: string): Promise<void> {
  if (!existsSync(stateDbPath(sqliteHome))) return;
  const runtime = await StateRuntime.open({
    sqliteHome,
    ...(defaultProvider === undefined ? {} : { defaultProvider }),
  });
  try {
    await resetBackfill(runtime);
  } finally {
    await runtime.close();
  }
}
