import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type BackfillProgress,
  type FsyncPolicy,
  initStateDb,
  requestReindex,
  resolveSqliteHome,
  type StartedStateDb,
  startStateDb,
} from '@skein/rollout';
import { recoveryNotes, type StateDb } from '@skein/state';
import { LocalThreadStore, ThreadStoreError } from '@skein/thread-store';

/**
 * How to open a Codex home as a store. The one failure policy (Codex's): the state DB is an
 * index, so when it cannot be opened or filled the store answers from the rollout files, and
 * `onIndexUnavailable` is told why, once; nothing else about the index is fatal.
 */
export interface OpenHomeStoreOptions {
  /** Provider recorded for rollouts that name none. */
  defaultModelProvider: string;
  /** Create the home's directory when it does not exist (default: refuse such a home). */
  create?: boolean;
  /**
   * The directory of the home's SQLite files. Default: where Codex keeps them
   * (`resolveSqliteHome`: config.toml's `sqlite_home`, else `CODEX_SQLITE_HOME`, else the home).
   */
  sqliteHome?: string;
  /** Where the default `sqliteHome` reads `CODEX_SQLITE_HOME` and `HOME` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Wait for another process's backfill (up to `initStateDb`'s 30 s) before answering from the
   * files: for commands whose whole point is the index. By default a home answers at once.
   */
  waitForIndex?: boolean;
  /**
   * Without `waitForIndex`: how long to keep waiting in the background for another process's
   * backfill, then switch the store to the index (`onIndexReady`). 0 (default) = never.
   */
  backgroundWaitMs?: number;
  /** Re-read every rollout into the index first (`requestReindex`). */
  reindex?: boolean;
  /** The Codex schema to create when the home has no state DB (default: the oldest known). */
  createSchema?: string;
  /** Backfill progress, while this process imports the home. */
  onProgress?: (progress: BackfillProgress) => void;
  /**
   * Warnings of the store (an unreadable rollout skipped, ...), and a damaged DB moved to
   * `db-backups/` when the home was opened.
   */
  warn?: (message: string) => void;
  /** Told once when the store answers from the files: the reason and the error behind it. */
  onIndexUnavailable?: (reason: string, error: unknown) => void;
  /** Told when a background wait ended with the index attached to the store. */
  onIndexReady?: () => void;
  /** Where the store's writers fsync (`LocalThreadStoreConfig.fsyncPolicy`). */
  fsyncPolicy?: FsyncPolicy;
}

/** A Codex home opened as a store, and the state handle it was given (none: files only). */
export interface OpenedHomeStore {
  store: LocalThreadStore;
  /** The absolute directory of the home's SQLite files (state DB, history DB, Skein's sidecar). */
  sqliteHome: string;
  /** The state handle the store started with; undefined while it answers from the files. */
  stateDb: StateDb | undefined;
  /** Closes the store and every state handle opening it acquired (now or in the background). */
  close(): Promise<void>;
}

/**
 * A Codex home as a `LocalThreadStore`: the state handle built once (`startStateDb`, or
 * `initStateDb` with `waitForIndex`: open, migrate, backfill under Codex's lease, verify), the
 * store over it, or over the files alone when the index is unavailable (see
 * `OpenHomeStoreOptions`). The DBs are opened where Codex keeps them (`sqliteHome`), so Skein
 * and Codex share one index. Refuses a path that is not a directory with `InvalidRequest`.
 */
export async function openHomeStore(
  codexHome: string,
  options: OpenHomeStoreOptions,
): Promise<OpenedHomeStore> {
  const home = resolve(codexHome);
  if (options.create && !existsSync(home)) mkdirSync(home, { recursive: true });
  if (!existsSync(home) || !statSync(home).isDirectory()) {
    throw ThreadStoreError.invalidRequest(`Codex home not found: ${home}`);
  }
  const sqliteHome =
    options.sqliteHome === undefined
      ? resolveSqliteHome(home, options.env === undefined ? {} : { env: options.env })
      : resolve(options.sqliteHome);
  const init = {
    codexHome: home,
    sqliteHome,
    defaultProvider: options.defaultModelProvider,
    ...(options.createSchema === undefined ? {} : { createSchema: options.createSchema }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
  const stopWaiting = new AbortController();
  let started: StartedStateDb;
  try {
    if (options.reindex) await requestReindex(sqliteHome, options.defaultModelProvider);
    started = options.waitForIndex
      ? { stateDb: await initStateDb(init), ready: null, reason: null, error: null }
      : await startStateDb({
          ...init,
          ...(options.backgroundWaitMs ? { backgroundWaitMs: options.backgroundWaitMs } : {}),
          signal: stopWaiting.signal,
        });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    started = { stateDb: undefined, ready: null, reason, error };
  }
  if (started.stateDb === undefined && started.reason !== null) {
    options.onIndexUnavailable?.(started.reason, started.error);
  }
  const stateDb = started.stateDb;
  if (stateDb !== undefined) warnOfRecovery(stateDb, options.warn);
  const store = new LocalThreadStore(
    {
      codexHome: home,
      defaultModelProvider: options.defaultModelProvider,
      ...(options.warn === undefined ? {} : { warn: options.warn }),
      ...(options.fsyncPolicy === undefined ? {} : { fsyncPolicy: options.fsyncPolicy }),
    },
    stateDb,
  );
  let closed = false;
  const attached = started.ready?.then(async (db) => {
    if (db === undefined) return undefined;
    if (closed || !store.attachStateDb(db)) {
      await db.close();
      return undefined;
    }
    warnOfRecovery(db, options.warn);
    options.onIndexReady?.();
    return db;
  });
  return {
    store,
    sqliteHome,
    stateDb,
    async close() {
      closed = true;
      stopWaiting.abort();
      await store.close();
      await stateDb?.close();
      await (await attached)?.close();
    },
  };
}

/** Tells the user where a damaged DB of the home went when it was opened (nothing is deleted). */
function warnOfRecovery(db: StateDb, warn: ((message: string) => void) | undefined): void {
  for (const note of recoveryNotes(db)) warn?.(note);
}
