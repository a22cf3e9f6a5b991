/**
 * `openThreadStore`: one store spec string → one ThreadStore, for `--store` options.
 *
 * - `postgres://…` / `postgresql://…` → `PostgresThreadStore` (migrates on open)
 * - `grpc://host:port`              → `RemoteThreadStore` (plaintext)
 * - `grpcs://host:port`             → `RemoteThreadStore` over TLS (`SKEIN_STORE_CA_FILE` or
 *   `grpc.caFile` to trust a private CA)
 *
 *   Both send the bearer token from `grpc.token`, `grpc.tokenFile`, `SKEIN_STORE_TOKEN_FILE`
 *   or `SKEIN_STORE_TOKEN` (first found), so a CLI needs no flag of its own to reach a server
 *   that requires one.
 * - anything else                   → a Codex home path, opened by `options.openHome`
 *   (the caller builds its state handle once with `initStateDb` and a `LocalThreadStore`;
 *   this package does not open SQLite itself).
 */
import { readFileSync } from 'node:fs';
import { type ThreadStore, ThreadStoreError } from '@skein/thread-store';
import { PostgresThreadStore, type PostgresThreadStoreOptions } from '@skein/thread-store-postgres';
import { STORE_CA_FILE_ENV, storeTokenFrom } from './auth.js';
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

/** Options of a `grpc://` / `grpcs://` store: the client's, plus where its token and CA come from. */
export interface GrpcStoreOptions extends RemoteThreadStoreOptions {
  /** File holding the bearer token (else `SKEIN_STORE_TOKEN_FILE`, `SKEIN_STORE_TOKEN`). */
  tokenFile?: string;
  /** PEM file of CAs to trust for `grpcs://` (else `SKEIN_STORE_CA_FILE`, else system roots). */
  caFile?: string;
}

/**
 * How `openThreadStore` opens what a spec names: your Codex-home opener (this package opens no
 * SQLite), and options for PostgreSQL and gRPC stores.
 */
export interface OpenThreadStoreOptions {
  /** Opens a Codex home (a path). Without it a home spec is refused. */
  openHome?: (codexHome: string) => Promise<Omit<OpenedThreadStore, 'kind'>>;
  postgres?: Omit<PostgresThreadStoreOptions, 'connectionString' | 'pool'>;
  grpc?: GrpcStoreOptions;
  /** Where the token and CA variables are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** The kind of store a spec names, by its scheme. */
export function threadStoreKindOf(spec: string): ThreadStoreKind {
  if (/^postgres(ql)?:\/\//i.test(spec)) return 'postgres';
  if (/^grpcs?:\/\//i.test(spec)) return 'grpc';
  return 'home';
}

/** The client options for a `grpc://` / `grpcs://` spec: token and CA from flags or env. */
function remoteOptions(spec: string, options: OpenThreadStoreOptions): RemoteThreadStoreOptions {
  const env = options.env ?? process.env;
  const { tokenFile, caFile, ...grpc } = options.grpc ?? {};
  const tls = /^grpcs:\/\//i.test(spec);
  const ca = caFile ?? nonEmpty(env[STORE_CA_FILE_ENV]);
  if (!tls && caFile !== undefined) {
    throw ThreadStoreError.invalidRequest(`a CA file needs a grpcs:// store, not ${spec}`);
  }
  const token = grpc.token ?? storeTokenFrom(tokenFile, env);
  return {
    ...grpc,
    ...(token === undefined ? {} : { token }),
    tls: grpc.tls ?? (tls ? (ca === undefined ? true : { ca: readCaFile(ca) }) : false),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw ThreadStoreError.invalidRequest(
      `cannot read the CA file ${path}: ${(error as Error).message}`,
    );
  }
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
    const target = spec.replace(/^grpcs?:\/\//i, '').replace(/\/+$/, '');
    if (!/^[^/\s]+:\d+$/.test(target)) {
      throw ThreadStoreError.invalidRequest(`invalid grpc store address: ${spec}`);
    }
    const store = new RemoteThreadStore(target, remoteOptions(spec, options));
    return { store, kind, close: async () => store.close() };
  }
  if (spec.trim() === '') throw ThreadStoreError.invalidRequest('empty thread store spec');
  if (!options.openHome) {
    throw ThreadStoreError.invalidRequest(`no opener for a Codex home store: ${spec}`);
  }
  return { ...(await options.openHome(spec)), kind };
}
