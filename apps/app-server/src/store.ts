/**
 * Builds the process's one ThreadStore from a store spec string. `local` (the default) is the
 * Codex home: `initStateDb` (open + migrate + backfill) once, then a `LocalThreadStore` over
 * it. `memory` is an in-process store (tests, demos). `postgres://…` is a PostgreSQL store and
 * `grpc://HOST:PORT` (`grpcs://` for TLS) a thread-store server reached over gRPC; a path is
 * another Codex home.
 */

import { startStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';
import type { AgentGraph } from '@skein/thread-manager';
import { InMemoryThreadStore, LocalThreadStore, type ThreadStore } from '@skein/thread-store';
import type { GrpcStoreOptions } from '@skein/thread-store-remote';

export interface OpenedStore {
  store: ThreadStore;
  /** Spawn-edge source for cascades when the store has a better one than its own listing. */
  agentGraph?: AgentGraph;
  /** Releases what opening acquired (the state DB handle). */
  close(): Promise<void>;
}

export interface StoreEnvironment {
  codexHome: string;
  defaultModelProvider: string;
  log: (line: string) => void;
  /** Token and CA for `grpc://` / `grpcs://` stores (else from the SKEIN_STORE_* env). */
  grpc?: GrpcStoreOptions;
}

export async function openThreadStore(spec: string, env: StoreEnvironment): Promise<OpenedStore> {
  if (spec === 'memory') {
    return { store: new InMemoryThreadStore(), close: async () => {} };
  }
  if (spec === 'local' || spec === '') return openLocalStore(env);
  // Loaded only for a remote store: the gRPC and PostgreSQL clients cost a local start ~50 ms.
  const { openThreadStore: openStoreSpec } = await import('@skein/thread-store-remote');
  const opened = await openStoreSpec(spec, {
    openHome: (codexHome) => openLocalStore({ ...env, codexHome }),
    ...(env.grpc === undefined ? {} : { grpc: env.grpc }),
  });
  return { store: opened.store, close: () => opened.close() };
}

/** How long a server started beside another process's backfill waits to switch to the index. */
const BACKGROUND_INDEX_WAIT_MS = 30 * 60_000;

async function openLocalStore(env: StoreEnvironment): Promise<OpenedStore> {
  let stateDb: StateDb | undefined;
  let ready: Promise<StateDb | undefined> | null = null;
  const stopWaiting = new AbortController();
  try {
    // Never make startup wait on another process's import: answer from the files, and switch
    // to the index when that import completes.
    const started = await startStateDb({
      codexHome: env.codexHome,
      defaultProvider: env.defaultModelProvider,
      backgroundWaitMs: BACKGROUND_INDEX_WAIT_MS,
      signal: stopWaiting.signal,
    });
    stateDb = started.stateDb;
    ready = started.ready;
    if (stateDb === undefined && started.reason !== null) {
      env.log(`skein-app-server: ${started.reason}; answering from the rollout files meanwhile`);
    }
  } catch (error) {
    // The JSONL files stay the truth: without the index the store scans them instead.
    env.log(
      `skein-app-server: state DB unavailable, using the filesystem fallback: ${String(error)}`,
    );
  }
  const store = new LocalThreadStore(
    { codexHome: env.codexHome, defaultModelProvider: env.defaultModelProvider, warn: env.log },
    stateDb,
  );
  let closed = false;
  const attached = ready?.then(async (db) => {
    if (db === undefined) return undefined;
    if (closed || !store.attachStateDb(db)) {
      await db.close();
      return undefined;
    }
    env.log('skein-app-server: the state index is ready; answering from it');
    return db;
  });
  return {
    store,
    close: async () => {
      closed = true;
      stopWaiting.abort();
      await stateDb?.close();
      await (await attached)?.close();
    },
  };
}
