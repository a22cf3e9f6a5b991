/**
 * `openThreadStore`: one store spec string → one ThreadStore, for `--store` options.
 *
 * - `postgres://…` / `postgresql://…` → `PostgresThreadStore` (migrates on open)
 * - `grpc://host:port`              → `RemoteThreadStore`
 * - anything else                   → a Codex home path, opened by `options.openHome`
 *   (the caller builds its state handle once with `initStateDb` and a `LocalThreadStore`;
 *   this package does not open SQLite itself).
 */
import { type ThreadStore, ThreadStoreError } from '@skein/thread-store';
import { PostgresThreadStore, type PostgresThreadStoreOptions } from '@skein/thread-store-postgres';
import { RemoteThreadStore, type RemoteThreadStoreOptions } from './client.js';

/**
 * What a store spec names: `postgres` (`postgres://…`), `grpc` (`grpc://host:port`) or a Codex
 * `home` (a path).
 */
export type ThreadStoreKind = 'postgres' | 'grpc' | 'home';

/**
 * A store `openThreadStore` opened, what kind it is, and how to release what opening it acquired
 * (pool, channel, state handle).
 */
export interface OpenedThreadStore {
  store: ThreadStore;
  kind: ThreadStoreKind;
  /** Releases what opening acquired (pool, channel, state handle). */
  close(): Promise<void>;
}

/**
 * How `openThreadStore` opens what a spec names: your Codex-home opener (this package opens no
 * SQLite), and options for PostgreSQL and gRPC stores.
 */
export interface OpenThreadStoreOptions {
  /** Opens a Codex home (a path). Without it a home spec is refused. */
  openHome?: (codexHome: string) => Promise<Omit<OpenedThreadStore, 'kind'>>;
  postgres?: Omit<PostgresThreadStoreOptions, 'connectionString' | 'pool'>;
  grpc?: RemoteThreadStoreOptions;
}

/** The kind of store a spec names, by its scheme. */
export function threadStoreKindOf(spec: string): ThreadStoreKind {
  if (/^postgres(ql)?:\/\//i.test(spec)) return 'postgres';
  if (/^grpc:\/\//i.test(spec)) return 'grpc';
  return 'home';
}

/**
 * One store spec string to one `ThreadStore`, for `--store` options: `postgres://…` opens (and
 * migrates) a `PostgresThreadStore`, `grpc://host:port` a `RemoteThreadStore`, anything else is a
 * Codex home opened by `options.openHome`.
 */
export async function openThreadStore(
  spec: string,
  options: OpenThreadStoreOptions = {},
): Promise<OpenedThreadStore> {
  const kind = threadStoreKindOf(spec);
  if (kind === 'postgres') {
    const store = await PostgresThreadStore.open({ ...options.postgres, connectionString: spec });
    return { store, kind, close: () => store.close() };
  }
  if (kind === 'grpc') {
    const target = spec.replace(/^grpc:\/\//i, '').replace(/\/+$/, '');
    if (!/^[^/\s]+:\d+$/.test(target)) {
      throw ThreadStoreError.invalidRequest(`invalid grpc store address: ${spec}`);
    }
    const store = new RemoteThreadStore(target, options.grpc);
    return { store, kind, close: async () => store.close() };
  }
  if (spec.trim() === '') throw ThreadStoreError.invalidRequest('empty thread store spec');
  if (!options.openHome) {
    throw ThreadStoreError.invalidRequest(`no opener for a Codex home store: ${spec}`);
  }
  return { ...(await options.openHome(spec)), kind };
}
