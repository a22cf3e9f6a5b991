/**
 * `openRemoteThreadStore`: a `grpc://host:port` (plaintext) or `grpcs://host:port` (TLS) spec to a
 * `RemoteThreadStore`. Both send the bearer token from `grpc.token`, `grpc.tokenFile`,
 * `SKEIN_STORE_TOKEN_FILE` or `SKEIN_STORE_TOKEN` (first found), so a CLI needs no flag of its own
 * to reach a server that requires one; `grpcs://` trusts `grpc.caFile` or `SKEIN_STORE_CA_FILE`
 * (else the system roots). Every other kind of store spec (a Codex home, `postgres://`) is opened
 * by `openThreadStore` of `@skein/thread-stores`: this client depends on no other store.
 */
import { readFileSync } from 'node:fs';
import { ThreadStoreError } from '@skein/thread-store';
import { STORE_CA_FILE_ENV, storeTokenFrom } from './auth.js';
import { RemoteThreadStore, type RemoteThreadStoreOptions } from './client.js';

/** Options of a `grpc://` / `grpcs://` store: the client's, plus where its token and CA come from. */
export interface GrpcStoreOptions extends RemoteThreadStoreOptions {
  /** File holding the bearer token (else `SKEIN_STORE_TOKEN_FILE`, `SKEIN_STORE_TOKEN`). */
  tokenFile?: string;
  /** PEM file of CAs to trust for `grpcs://` (else `SKEIN_STORE_CA_FILE`, else system roots). */
  caFile?: string;
}

/** Options of `openRemoteThreadStore`: the client's, and where the token and CA variables live. */
export interface OpenRemoteThreadStoreOptions {
  grpc?: GrpcStoreOptions;
  /** Where the token and CA variables are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** Whether a store spec names a gRPC store (`grpc://` or `grpcs://`). */
export function isGrpcStoreSpec(spec: string): boolean {
  return /^grpcs?:\/\//i.test(spec);
}

/** The client options for a `grpc://` / `grpcs://` spec: token and CA from flags or env. */
function remoteOptions(
  spec: string,
  options: OpenRemoteThreadStoreOptions,
): RemoteThreadStoreOptions {
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
 * A `grpc://host:port` or `grpcs://host:port` spec to a connected-on-demand `RemoteThreadStore`;
 * anything else is refused with `InvalidRequest`. The caller closes the store.
 */
export function openRemoteThreadStore(
  spec: string,
  options: OpenRemoteThreadStoreOptions = {},
): RemoteThreadStore {
  const target = isGrpcStoreSpec(spec) ? spec.replace(/^grpcs?:\/\//i, '').replace(/\/+$/, '') : '';
  if (!/^[^/\s]+:\d+$/.test(target)) {
    throw ThreadStoreError.invalidRequest(`invalid grpc store address: ${spec}`);
  }
  return new RemoteThreadStore(target, remoteOptions(spec, options));
}
