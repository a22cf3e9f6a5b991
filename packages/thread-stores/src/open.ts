import type { StateDb } from '@skein/state';
import { InMemoryThreadStore, type ThreadStore, ThreadStoreError } from '@skein/thread-store';
import type { GrpcStoreOptions } from '@skein/thread-store-remote';
import { type OpenHomeStoreOptions, openHomeStore } from './open-home.js';
import { type ThreadStoreKind, threadStoreKindOf } from './spec.js';

/** What the PostgreSQL store takes besides its connection string (see `@skein/thread-store-postgres`). */
export interface PostgresStoreOptions {
  /** Provider recorded for threads that name none. */
  defaultModelProvider?: string;
  /** Told when an idle pooled connection fails (the pool replaces it). */
  onPoolError?: (error: Error) => void;
}

/** How `openThreadStore` opens each kind of store a spec may name. */
export interface OpenThreadStoreOptions {
  /** The home a spec of `local` (or an empty spec) means. */
  codexHome?: string;
  /** How a Codex home opens (its failure policy included); `defaultModelProvider` is required. */
  home: OpenHomeStoreOptions;
  postgres?: PostgresStoreOptions;
  grpc?: GrpcStoreOptions;
  /** Where the gRPC token and CA variables are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A store `openThreadStore` opened: the store, its kind, the state handle of a Codex home (none
 * for other kinds, or while a home answers from its files), and how to release what opening
 * acquired (state handle, pool, channel).
 */
export interface OpenedThreadStore {
  store: ThreadStore;
  kind: ThreadStoreKind;
  stateDb: StateDb | undefined;
  close(): Promise<void>;
}

/**
 * One store spec to one `ThreadStore`, the way every Skein app opens its store:
 *
 * - a path (or `local` / empty: `options.codexHome`) → a Codex home (`openHomeStore`);
 * - `memory` → an `InMemoryThreadStore` (tests, demos);
 * - `postgres://…` / `postgresql://…` → a `PostgresThreadStore` (migrated on open), loaded only
 *   then, so a program that never names one never loads `pg`;
 * - `grpc://host:port` / `grpcs://host:port` → a `RemoteThreadStore` (`openRemoteThreadStore`).
 *
 * A spec that names nothing openable is refused with `InvalidRequest`.
 */
export async function openThreadStore(
  spec: string,
  options: OpenThreadStoreOptions,
): Promise<OpenedThreadStore> {
  const kind = threadStoreKindOf(spec);
  if (kind === 'memory') {
    const store = new InMemoryThreadStore();
    return { store, kind, stateDb: undefined, close: async () => {} };
  }
  if (kind === 'postgres') {
    const { PostgresThreadStore } = await import('@skein/thread-store-postgres');
    const store = await PostgresThreadStore.open({ ...options.postgres, connectionString: spec });
    return { store, kind, stateDb: undefined, close: () => store.close() };
  }
  if (kind === 'grpc') {
    // Loaded only for a remote store: the gRPC client costs a local start ~50 ms.
    const { openRemoteThreadStore } = await import('@skein/thread-store-remote');
    const store = openRemoteThreadStore(spec, {
      ...(options.grpc === undefined ? {} : { grpc: options.grpc }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    return { store, kind, stateDb: undefined, close: async () => store.close() };
  }
  const home = spec === 'local' || spec === '' ? options.codexHome : spec;
  if (home === undefined || home.trim() === '') {
    throw ThreadStoreError.invalidRequest('empty thread store spec');
  }
  const opened = await openHomeStore(home, options.home);
  return { ...opened, kind };
}
