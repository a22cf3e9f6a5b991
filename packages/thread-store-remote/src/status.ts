/**
 * ThreadStoreError ↔ gRPC status, in one table. The status `details` is the error's payload
 * message (what a stock Codex client turns into `InvalidRequest(message)`, ...); Skein peers
 * also get the exact code in the `skein-error-bin` trailer and rebuild the identical error.
 */
import * as grpc from '@grpc/grpc-js';
import {
  THREAD_STORE_ERROR_CODES,
  ThreadStoreError,
  type ThreadStoreErrorCode,
  toThreadStoreError,
} from '@skein/thread-store';
import { STORE_TOKEN_ENV, STORE_TOKEN_FILE_ENV } from './auth.js';

const STATUS_OF: Record<ThreadStoreErrorCode, grpc.status> = {
  ThreadNotFound: grpc.status.NOT_FOUND,
  InvalidRequest: grpc.status.INVALID_ARGUMENT,
  Conflict: grpc.status.ABORTED,
  Unsupported: grpc.status.UNIMPLEMENTED,
  ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
  Internal: grpc.status.INTERNAL,
};

/**
 * The gRPC trailer in which Skein peers carry a `ThreadStoreError`'s exact code, so the client
 * rebuilds the identical error.
 */
export const ERROR_TRAILER = 'skein-error-bin';

/**
 * The gRPC status a `ThreadStoreError` code travels as (`ThreadNotFound` → NOT_FOUND,
 * `InvalidRequest` → INVALID_ARGUMENT, …).
 */
export function statusCodeOf(code: ThreadStoreErrorCode): grpc.status {
  return STATUS_OF[code];
}

/** The service error a handler answers with. */
export function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  const storeError = toThreadStoreError(error);
  const metadata = new grpc.Metadata();
  metadata.set(
    ERROR_TRAILER,
    Buffer.from(JSON.stringify({ code: storeError.code, detail: storeError.detail }), 'utf8'),
  );
  return { code: STATUS_OF[storeError.code], details: storeError.detail, metadata };
}

function fromTrailer(metadata: grpc.Metadata | undefined): ThreadStoreError | undefined {
  const value = metadata?.get(ERROR_TRAILER)[0];
  if (value === undefined) return undefined;
  try {
    const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    const parsed = JSON.parse(text) as { code?: unknown; detail?: unknown };
    const code = parsed.code as ThreadStoreErrorCode;
    if (!THREAD_STORE_ERROR_CODES.includes(code) || typeof parsed.detail !== 'string') {
      return undefined;
    }
    return ThreadStoreError.fromCode(code, parsed.detail);
  } catch {
    return undefined;
  }
}

/**
 * The ThreadStoreError for a failed call. `threadId` names the thread of a thread-scoped call,
 * for a stock server's bare NOT_FOUND.
 */
export function fromServiceError(error: unknown, threadId?: string): ThreadStoreError {
  if (error instanceof ThreadStoreError) return error;
  const service = error as Partial<grpc.ServiceError>;
  if (typeof service.code !== 'number') return toThreadStoreError(error, 'remote thread store');
  const exact = fromTrailer(service.metadata);
  if (exact) return exact;
  const details = service.details ?? service.message ?? '';
  switch (service.code) {
    case grpc.status.NOT_FOUND:
      return threadId
        ? ThreadStoreError.threadNotFound(threadId)
        : ThreadStoreError.internal(`remote thread store request failed: ${details}`, error);
    case grpc.status.INVALID_ARGUMENT:
      return ThreadStoreError.invalidRequest(details);
    case grpc.status.ALREADY_EXISTS:
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.ABORTED:
      return ThreadStoreError.conflict(details);
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return ThreadStoreError.internal(
        `remote thread store refused the call (${details}); give its token with --store-token-file, ${STORE_TOKEN_FILE_ENV} or ${STORE_TOKEN_ENV}`,
        error,
      );
    case grpc.status.UNAVAILABLE:
      return ThreadStoreError.internal(
        `failed to connect to remote thread store: ${details}`,
        error,
      );
    default:
      return ThreadStoreError.internal(
        `remote thread store request failed: ${grpc.status[service.code] ?? service.code}: ${details}`,
        error,
      );
  }
}
