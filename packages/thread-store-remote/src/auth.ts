/**
 * Access control for the thread-store server (ARCHITECTURE decision 7): a bearer token in
 * the call metadata (`authorization: Bearer <token>`, the usual gRPC convention), checked on
 * every call (unary and streaming) before the handler runs, compared in constant time;
 * `UNAUTHENTICATED` otherwise. TLS comes from PEM files. A listener that other machines can
 * reach must have a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** The gRPC metadata key a call's `Bearer <token>` travels in. */
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/** Environment variable holding the token (both sides). */
export const STORE_TOKEN_ENV = 'SKEIN_STORE_TOKEN';
/** Environment variable naming a file that holds the token (read before `SKEIN_STORE_TOKEN`). */
export const STORE_TOKEN_FILE_ENV = 'SKEIN_STORE_TOKEN_FILE';
/** Environment variable naming a PEM file of CA certificates to trust for `grpcs://`. */
export const STORE_CA_FILE_ENV = 'SKEIN_STORE_CA_FILE';

/** Reads a token file: trimmed, and refused when empty. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the store token file ${path}: ${(error as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new Error(`the store token file ${path} is empty`);
  return token;
}

/**
 * The token from, in order: an explicit token file, `SKEIN_STORE_TOKEN_FILE`,
 * `SKEIN_STORE_TOKEN`; undefined when none is set.
 */
export function storeTokenFrom(
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (tokenFile !== undefined) return readTokenFile(tokenFile);
  const fromFileEnv = env[STORE_TOKEN_FILE_ENV];
  if (fromFileEnv !== undefined && fromFileEnv !== '') return readTokenFile(fromFileEnv);
  const fromEnv = env[STORE_TOKEN_ENV]?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** `null` when the metadata carries `token`; else the reason for `UNAUTHENTICATED`. */
export function bearerRefusal(metadata: grpc.Metadata, tokenSha256: Buffer): string | null {
  const values = metadata.get(AUTHORIZATION_METADATA_KEY);
  const header = values[0];
  if (header === undefined) return 'missing bearer token';
  if (values.length !== 1 || typeof header !== 'string') return 'invalid authorization metadata';
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return 'invalid authorization metadata';
  // Digests have one length whatever was sent: the comparison leaks neither length nor prefix.
  return timingSafeEqual(sha256(match[1]), tokenSha256) ? null : 'invalid bearer token';
}

/** A server interceptor refusing every call that lacks `token`. */
export function bearerTokenInterceptor(token: string): grpc.ServerInterceptor {
  const expected = sha256(token);
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const refusal = bearerRefusal(metadata, expected);
            if (refusal === null) pass(metadata);
            else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: refusal });
          },
        });
      },
    });
}

/**
 * True when `address` (`host:port`, `[v6]:port`, `unix:path`) can only be reached from this
 * machine: 127.0.0.0/8, ::1, `localhost`, or a Unix socket.
 */
export function isLocalAddress(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = address
    .replace(/^dns:(\/\/[^/]*\/)?/, '')
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family !== 6) return false;
  const canonical = new URL(`http://[${host}]/`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** PEM material for a TLS listener. */
export interface ServerTls {
  /** Certificate chain. */
  cert: Buffer;
  /** Private key. */
  key: Buffer;
}

/** Reads `--tls-cert` / `--tls-key` style files, naming the one that cannot be read. */
export function readTlsFiles(certFile: string, keyFile: string): ServerTls {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'key') };
}

export function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]);
}
