import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  KNOWN_STATE_SCHEMAS,
  readBackfillState,
  recoveryNotes,
  type StateDb,
  StateError,
  StateRuntime,
  stateDbPath,
} from '@skein/state';
import { readSessionMetaLine } from '../head-summary.js';
import { parseRolloutFileName, sessionsDir } from '../layout.js';
import { resolveSqliteHome } from '../sqlite-home.js';
import { type BackfillOptions, type BackfillProgress, runBackfill } from './backfill.js';
import { settleRenameIntents } from './rename-intents.js';

/**
 * `initStateDb`'s options: the home, where its DBs are, how long to wait for another process's
 * import, the provider of rollouts that name none, the schema a home without a DB gets, a progress
 * callback and import tuning.
 */
export interface InitStateDbOptions {
  codexHome: string;
  /**
   * Directory of the DB files; default: where Codex keeps them for this home
   * (`resolveSqliteHome`: config.toml's `sqlite_home`, `CODEX_SQLITE_HOME`, else the home).
   */
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
  backfill?: Pick<BackfillOptions, 'leaseMs' | 'batchSize' | 'workers' | 'owner' | 'bulkImport'>;
  /** Ends a wait for another process's backfill early (the caller is shutting down). */
  signal?: AbortSignal;
}

/** How long `initStateDb` waits for another process's import before giving up (30 s). */
export const DEFAULT_BACKFILL_WAIT_MS = 30_000;
/** How often `initStateDb` looks again while it waits (1 s). */
export const DEFAULT_BACKFILL_POLL_MS = 1_000;

/** The directory of the home's DBs: the one given, else where Codex keeps them. */
export function sqliteHomeOf(
  options: Pick<InitStateDbOptions, 'codexHome' | 'sqliteHome'>,
): string {
  return options.sqliteHome ?? resolveSqliteHome(options.codexHome);
}

function openOptions(options: InitStateDbOptions) {
  return {
    sqliteHome: sqliteHomeOf(options),
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
  const sqliteHome = sqliteHomeOf(options);
  const createSchema =
    options.createSchema ??
    (existsSync(stateDbPath(sqliteHome)) ? undefined : await schemaForHome(options.codexHome));
  const runtime = await StateRuntime.open({
    ...openOptions(options),
    ...(createSchema !== undefined ? { createSchema } : {}),
  });
  try {
    const waitMs = options.waitMs ?? DEFAULT_BACKFILL_WAIT_MS;
    const pollMs = Math.max(10, options.pollMs ?? DEFAULT_BACKFILL_POLL_MS);
    const deadline = Date.now() + waitMs;
    // Bounded: one iteration per poll until the deadline, plus the first.
    for (let round = 0; round <= Math.ceil(waitMs / pollMs) + 1; round += 1) {
      if ((await readBackfillState(runtime)).status === 'complete')
        return settled(runtime, options.codexHome);
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
      if (state.status === 'complete') return settled(runtime, options.codexHome);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StateError(
          'BackfillTimedOut',
          `timed out waiting for state db backfill at ${options.codexHome} after ${Math.round(waitMs / 1000)}s (status: ${state.status})`,
        );
      }
      await sleepUnlessAborted(Math.min(pollMs, left), options.signal);
      if (options.signal?.aborted) {
        throw new StateError(
          'Closed',
          `stopped waiting for the state db backfill at ${options.codexHome}`,
        );
      }
    }
    throw new StateError(
      'BackfillTimedOut',
      `timed out waiting for state db backfill at ${options.codexHome}`,
    );
  } catch (error) {
    await runtime.close();
    throw withRecoveryNotes(error, recoveryNotes(runtime));
  }
}

/**
 * A failure of an open that moved a damaged DB aside, saying where it went: the handle that
 * would have told it is closed, and the damaged copy is the user's to keep.
 */
function withRecoveryNotes(error: unknown, notes: readonly string[]): unknown {
  if (notes.length === 0 || !(error instanceof StateError)) return error;
  return new StateError(error.code, `${error.message} (${notes.join('; ')})`, { cause: error });
}

/**
 * The handle, once the renames a killed process left half done are settled (see
 * rename-intents.ts). A failure there leaves them for the next open: it never fails this one.
 */
async function settled(runtime: StateDb, codexHome: string): Promise<StateDb> {
  await settleRenameIntents(runtime, codexHome).catch(() => undefined);
  return runtime;
}

/**
 * For non-owning readers: the handle if the home's DB exists and its backfill is complete, else
 * undefined (never imports, never waits).
 */
export async function openStateDbIfReady(
  options: Pick<InitStateDbOptions, 'codexHome' | 'sqliteHome' | 'defaultProvider'>,
): Promise<StateDb | undefined> {
  if (!existsSync(stateDbPath(sqliteHomeOf(options)))) return undefined;
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

/** What `startStateDb` got: a handle now, one later, or the reason there is none. */
export interface StartedStateDb {
  /** The handle, when the index was (or could at once be made) complete. */
  stateDb: StateDb | undefined;
  /**
   * When another live process holds the backfill: the handle once that process completes it
   * (or undefined if it never does within `backgroundWaitMs`). Null otherwise.
   */
  ready: Promise<StateDb | undefined> | null;
  /** Why there is no handle now, for the caller to say once. */
  reason: string | null;
  /** The error behind `reason` (its `cause` chain names a denied path, say), null with a handle. */
  error: unknown;
}

/**
 * The startup form of `initStateDb` for programs that must answer at once (issue 15.5): one
 * attempt — open, and import the home if this process can take the backfill — and no waiting
 * on another process's backfill. A caller without a handle answers from the files; with
 * `backgroundWaitMs` it also gets `ready`, which resolves with the handle when the other
 * process's import completes, so a long-lived server can switch to the index then.
 */
export async function startStateDb(
  options: InitStateDbOptions & { backgroundWaitMs?: number },
): Promise<StartedStateDb> {
  const { backgroundWaitMs, ...init } = options;
  try {
    return {
      stateDb: await initStateDb({ ...init, waitMs: 0 }),
      ready: null,
      reason: null,
      error: null,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const heldElsewhere = error instanceof StateError && error.code === 'BackfillTimedOut';
    if (!heldElsewhere || backgroundWaitMs === undefined || backgroundWaitMs <= 0) {
      return { stateDb: undefined, ready: null, reason, error };
    }
    const ready = initStateDb({ ...init, waitMs: backgroundWaitMs }).catch(() => undefined);
    return { stateDb: undefined, ready, reason, error };
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** How many of the newest rollouts are looked at to tell which Codex wrote a home. */
const SCHEMA_PROBE_FILES = 16;

/**
 * The Codex schema to create for a home without a state DB: 0.169's when its newest rollouts
 * are paginated (a 0.169 home that lost its DB: its threads need the name column and the
 * history projection to read in 0.169), else none (the runtime's default, the oldest known).
 */
async function schemaForHome(codexHome: string): Promise<string | undefined> {
  const newest = newestRollouts(sessionsDir(codexHome), SCHEMA_PROBE_FILES);
  for (const path of newest) {
    const meta = await readSessionMetaLine(path).catch(() => null);
    if (meta?.history_mode === 'paginated') {
      return KNOWN_STATE_SCHEMAS[KNOWN_STATE_SCHEMAS.length - 1]?.codexVersion;
    }
  }
  return undefined;
}

/** Up to `limit` rollout files of the newest day folders (names sort by time). */
function newestRollouts(root: string, limit: number): string[] {
  const out: string[] = [];
  const visit = (dir: string, depth: number) => {
    if (out.length >= limit) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort().reverse();
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length >= limit) return;
      const path = join(dir, name);
      if (depth < 3) visit(path, depth + 1);
      else if (parseRolloutFileName(name) !== null) out.push(path);
    }
  };
  visit(root, 0);
  return out;
}
