/**
 * Websocket authentication, with the flags and the behaviour of `codex app-server` 0.169.0:
 * the client presents `Authorization: Bearer <token>` on the upgrade request (the scheme is
 * case-insensitive; Codex's own client, `codex --remote … --remote-auth-token-env VAR`, sends
 * exactly that), and a refused upgrade is answered `401` with a short text/plain reason.
 *
 * - `capability-token`: the token is a shared secret, given as a file (`--ws-token-file`,
 *   trimmed) or only as its SHA-256 (`--ws-token-sha256`). Presented tokens are hashed and the
 *   digests compared in constant time, so neither the length nor a prefix of the secret leaks.
 * - `signed-bearer-token`: the token is an HS256 JWT signed with the shared secret in
 *   `--ws-shared-secret-file` (at least 32 bytes). `exp` is required, `nbf` optional, both
 *   with `--ws-max-clock-skew-seconds` (default 30) of slack; `iss` / `aud` are checked when
 *   `--ws-issuer` / `--ws-audience` are given (`aud` may be a string or a list).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import * as z from 'zod';

export const WS_AUTH_MODES = ['capability-token', 'signed-bearer-token'] as const;
export type WsAuthMode = (typeof WS_AUTH_MODES)[number];

const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 30;
const MIN_SHARED_SECRET_BYTES = 32;

/** The websocket auth flags as given on the command line (all optional). */
export interface WsAuthFlags {
  wsAuth?: string;
  wsTokenFile?: string;
  wsTokenSha256?: string;
  wsSharedSecretFile?: string;
  wsIssuer?: string;
  wsAudience?: string;
  wsMaxClockSkewSeconds?: string;
}

/** A checked auth configuration; secrets are read by `loadWsAuth`. */
export type WsAuthSettings =
  | { mode: 'capability-token'; tokenFile: string }
  | { mode: 'capability-token'; tokenSha256: Buffer }
  | {
      mode: 'signed-bearer-token';
      sharedSecretFile: string;
      issuer: string | null;
      audience: string | null;
      maxClockSkewSeconds: number;
    };

/** A loaded policy: what `authorizeUpgrade` checks requests against. */
export type WsAuth =
  | { mode: 'capability-token'; tokenSha256: Buffer }
  | {
      mode: 'signed-bearer-token';
      secret: Buffer;
      issuer: string | null;
      audience: string | null;
      maxClockSkewSeconds: number;
    };

export class WsAuthConfigError extends Error {}

function nonBlank(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
}

/** Validates the flag combination the way 0.169.0 does (which flags need which mode). */
export function wsAuthSettingsFromFlags(flags: WsAuthFlags): WsAuthSettings | null {
  const jwtOnly =
    flags.wsSharedSecretFile !== undefined ||
    flags.wsIssuer !== undefined ||
    flags.wsAudience !== undefined ||
    flags.wsMaxClockSkewSeconds !== undefined;
  const tokenOnly = flags.wsTokenFile !== undefined || flags.wsTokenSha256 !== undefined;
  if (flags.wsAuth === undefined) {
    if (jwtOnly || tokenOnly) {
      throw new WsAuthConfigError(
        'the --ws-* flags need --ws-auth capability-token or --ws-auth signed-bearer-token',
      );
    }
    return null;
  }
  if (flags.wsAuth === 'capability-token') {
    if (jwtOnly) {
      throw new WsAuthConfigError(
        '--ws-shared-secret-file, --ws-issuer, --ws-audience and --ws-max-clock-skew-seconds need --ws-auth signed-bearer-token',
      );
    }
    if (flags.wsTokenFile !== undefined && flags.wsTokenSha256 !== undefined) {
      throw new WsAuthConfigError('give either --ws-token-file or --ws-token-sha256, not both');
    }
    if (flags.wsTokenSha256 !== undefined) {
      if (!/^[0-9a-fA-F]{64}$/.test(flags.wsTokenSha256)) {
        throw new WsAuthConfigError(
          '--ws-token-sha256 must be a SHA-256 digest: 64 hexadecimal characters',
        );
      }
      return { mode: 'capability-token', tokenSha256: Buffer.from(flags.wsTokenSha256, 'hex') };
    }
    if (flags.wsTokenFile === undefined) {
      throw new WsAuthConfigError(
        '--ws-auth capability-token needs --ws-token-file or --ws-token-sha256',
      );
    }
    return { mode: 'capability-token', tokenFile: resolve(flags.wsTokenFile) };
  }
  if (flags.wsAuth === 'signed-bearer-token') {
    if (tokenOnly) {
      throw new WsAuthConfigError(
        '--ws-token-file and --ws-token-sha256 belong to --ws-auth capability-token, not signed-bearer-token',
      );
    }
    if (flags.wsSharedSecretFile === undefined) {
      throw new WsAuthConfigError('--ws-auth signed-bearer-token needs --ws-shared-secret-file');
    }
    let maxClockSkewSeconds = DEFAULT_MAX_CLOCK_SKEW_SECONDS;
    if (flags.wsMaxClockSkewSeconds !== undefined) {
      if (!/^\d{1,15}$/.test(flags.wsMaxClockSkewSeconds.trim())) {
        throw new WsAuthConfigError(
          `--ws-max-clock-skew-seconds must be a whole number of seconds, got ${JSON.stringify(flags.wsMaxClockSkewSeconds)}`,
        );
      }
      maxClockSkewSeconds = Number(flags.wsMaxClockSkewSeconds.trim());
    }
    return {
      mode: 'signed-bearer-token',
      sharedSecretFile: resolve(flags.wsSharedSecretFile),
      issuer: nonBlank(flags.wsIssuer),
      audience: nonBlank(flags.wsAudience),
      maxClockSkewSeconds,
    };
  }
  throw new WsAuthConfigError(
    `unknown --ws-auth mode ${JSON.stringify(flags.wsAuth)}: expected ${WS_AUTH_MODES.join(' or ')}`,
  );
}

function readSecret(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WsAuthConfigError(
      `cannot read the websocket auth secret ${path}: ${(error as Error).message}`,
    );
  }
  const secret = text.trim();
  if (secret === '') throw new WsAuthConfigError(`the websocket auth secret ${path} is empty`);
  return Buffer.from(secret, 'utf8');
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Reads the secret files once, at startup. */
export function loadWsAuth(settings: WsAuthSettings): WsAuth {
  if (settings.mode === 'capability-token') {
    if ('tokenSha256' in settings) return settings;
    return { mode: 'capability-token', tokenSha256: sha256(readSecret(settings.tokenFile)) };
  }
  const secret = readSecret(settings.sharedSecretFile);
  if (secret.length < MIN_SHARED_SECRET_BYTES) {
    throw new WsAuthConfigError(
      `the signed-bearer-token secret ${settings.sharedSecretFile} is ${secret.length} bytes; it must be at least ${MIN_SHARED_SECRET_BYTES}`,
    );
  }
  return {
    mode: 'signed-bearer-token',
    secret,
    issuer: settings.issuer,
    audience: settings.audience,
    maxClockSkewSeconds: settings.maxClockSkewSeconds,
  };
}

/** `null` = accepted; otherwise the reason sent with the 401 (0.169.0's wording). */
export type AuthRefusal = string | null;

function bearerToken(headers: IncomingHttpHeaders): { token: string } | { refusal: string } {
  const header = headers.authorization;
  if (header === undefined) return { refusal: 'missing websocket bearer token' };
  const space = header.indexOf(' ');
  const token = space < 0 ? '' : header.slice(space + 1).trim();
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer' || token === '') {
    return { refusal: 'invalid authorization header' };
  }
  return { token };
}

/** Checks the upgrade request's credentials against `auth`. */
export function authorizeUpgrade(headers: IncomingHttpHeaders, auth: WsAuth): AuthRefusal {
  const presented = bearerToken(headers);
  if ('refusal' in presented) return presented.refusal;
  if (auth.mode === 'capability-token') {
    // Both sides are 32-byte digests: equal lengths, compared without early exit.
    return timingSafeEqual(sha256(presented.token), auth.tokenSha256)
      ? null
      : 'invalid websocket bearer token';
  }
  return verifyJwt(presented.token, auth, Math.floor(Date.now() / 1000));
}

const base64url = /^[A-Za-z0-9_-]*$/;

// Other header fields and claims are allowed and ignored; a fractional or string `exp` is not.
const jwtHeaderSchema = z.object({ alg: z.literal('HS256') });
const jwtClaimsSchema = z.object({
  exp: z.int(),
  nbf: z.int().nullish(),
  iss: z.string().nullish(),
  aud: z.union([z.string(), z.array(z.string())]).nullish(),
});

function decodeJson(segment: string): unknown {
  if (!base64url.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Verifies an HS256 JWT (signature first, then the claims) at `now` (Unix seconds). */
export function verifyJwt(
  token: string,
  auth: Extract<WsAuth, { mode: 'signed-bearer-token' }>,
  now: number,
): AuthRefusal {
  const invalid = 'invalid websocket jwt';
  const parts = token.split('.');
  if (parts.length !== 3) return invalid;
  const [headerPart = '', claimsPart = '', signaturePart = ''] = parts;
  if (!jwtHeaderSchema.safeParse(decodeJson(headerPart)).success) return invalid;
  if (!base64url.test(signaturePart)) return invalid;
  const expected = createHmac('sha256', auth.secret).update(`${headerPart}.${claimsPart}`).digest();
  const signature = Buffer.from(signaturePart, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    return invalid;
  }
  const claims = jwtClaimsSchema.safeParse(decodeJson(claimsPart));
  if (!claims.success) return invalid;
  const { exp, nbf, iss, aud } = claims.data;
  const skew = auth.maxClockSkewSeconds;
  if (now > exp + skew) return 'expired websocket jwt';
  if (nbf != null && now < nbf - skew) return 'websocket jwt is not valid yet';
  if (auth.issuer !== null && iss !== auth.issuer) return 'websocket jwt issuer mismatch';
  if (auth.audience !== null) {
    const audiences = aud == null ? [] : Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(auth.audience)) return 'websocket jwt audience mismatch';
  }
  return null;
}
