import { existsSync } from 'node:fs';
import {
  readBackfillState,
  type StateDb,
  StateError,
  StateRuntime,
  stateDbPath,
} from '@skein/state';
import { type BackfillOptions, type BackfillProgress, runBackfill } from './backfill.js';

/**
 * `initStateDb`'s options: the home, where its DBs are, how long to wait for another process's
 * import, the provider of rollouts that name none, the schema a home without a DB gets, a progress
 * callback and import tuning.
 */
export interface InitStateDbOptions {
  codexHome: string;
  /** Directory of the DB file; default: the Codex home. */
  sqliteHome?: string;
  /** How long to wait for another process's backfill before giving up (default 30 s). */
  waitMs?: number;
  /** Poll interval while waiting (default 1 s). */
  pollMs?: number;
  /** Provider recorded for rollouts that name none (default `openai`). */
  defaultProvider?: string;
  /**
   * The Codex schema to create when the home has no state DB (see `OpenStateRuntimeOptions`):
   * by default the oldest known, which every known Codex opens.
   */
  createSchema?: string;
  onProgress?: (progress: BackfillProgress) => void;
  /** Backfill tuning (lease duration, batch size, worker threads). */
  backfill?: Pick<BackfillOptions, 'leaseMs' | 'batchSize' | 'workers' | 'owner'>;
}

/** How long `initStateDb` waits for another process's import before giving up (30 s). */
export const DEFAULT_BACKFILL_WAIT_MS = 30_000;
/** How often `initStateDb` looks again while it waits (1 s). */
export const DEFAULT_BACKFILL_POLL_MS = 1_000;

function openOptions(options: InitStateDbOptions) {
  return {
    sqliteHome: options.sqliteHome ?? options.codexHome,
    ...(options.defaultProvider !== undefined ? { defaultProvider: options.defaultProvider } : {}),
    ...(options.createSchema !== undefined ? { createSchema: options.createSchema } : {}),
  };
}

/**
 * The state DB handle every app builds once at startup (spec rollout-state §5.9): open Codex's
 * DB in the home (created from a recorded Codex schema when there is none), import the home's rollouts if that has not been done (under the backfill
 * lease), or wait for the process that is doing it — up to `waitMs`, polling each `pollMs`,
 * taking the lease over at once if its holder died — and return only once the import is
 * complete. Throws `StateError` (`BackfillTimedOut`, `OpenFailed`, `MigrationFailed`); an app
 * that prefers to degrade runs filesystem-only (`StateDb | undefined`).
 */
export async function initStateDb(options: InitStateDbOptions): Promise<StateDb> {
  const runtime = await StateRuntime.open(openOptions(options));
  try {
    const waitMs = options.waitMs ?? DEFAULT_BACKFILL_WAIT_MS;
    const pollMs = Math.max(10, options.pollMs ?? DEFAULT_BACKFILL_POLL_MS);
    const deadline = Date.now() + waitMs;
    // Bounded: one iteration per poll until the deadline, plus the first.
    for (let round = 0; round <= Math.ceil(waitMs / pollMs) + 1; round += 1) {
      if ((await readBackfillState(runtime)).status === 'complete') return runtime;
      // A schema Skein does not write (a newer Codex's): its rows are what there is.
      if (runtime.readOnlyReason !== null) return runtime;
      await runBackfill(runtime, {
        codexHome: options.codexHome,
        ...(options.defaultProvider !== undefined
          ? { defaultProvider: options.defaultProvider }
          : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...options.backfill,
      });
      const state = await readBackfillState(runtime);
      if (state.status === 'complete') return runtime;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StateError(
          'BackfillTimedOut',
          `timed out waiting for state db backfill at ${options.codexHome} after ${Math.round(waitMs / 1000)}s (status: ${state.status})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    }
    throw new StateError(
      'BackfillTimedOut',
      `timed out waiting for state db backfill at ${options.codexHome}`,
    );
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/**
 * For non-owning readers: the handle if the home's DB exists and its backfill is complete, else
 * undefined (never imports, never waits).
 */
export async function openStateDbIfReady(
  options: Pick<InitStateDbOptions, 'codexHome' | 'sqliteHome' | 'defaultProvider'>,
): Promise<StateDb | undefined> {
  if (!existsSync(stateDbPath(options.sqliteHome ?? options.codexHome))) return undefined;
  let runtime: StateRuntime;
  try {
    runtime = await StateRuntime.open(openOptions(options));
  } catch {
    return undefined;
  }
  if ((await readBackfillState(runtime)).status === 'complete') return runtime;
  await runtime.close();
  return undefined;
}
