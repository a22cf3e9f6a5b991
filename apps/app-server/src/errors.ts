/**
 * JSON-RPC errors, and the ONE table that maps errors from the layers below to JSON-RPC codes
 * (spec §0.2): -32600 invalid request (validation, not-found, state), -32601 unsupported by
 * the store, -32602 a few list-filter errors, -32603 internal.
 */
import { ThreadManagerError, type ThreadManagerErrorCode } from '@skein/thread-manager';
import { ThreadStoreError, type ThreadStoreErrorCode } from '@skein/thread-store';

export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
    /** The error's `data` member, where Codex sends one (e.g. a read-state conflict). */
    readonly data?: unknown,
  ) {
    super(message);
  }

  static invalidRequest(message: string): RpcError {
    return new RpcError(INVALID_REQUEST, message);
  }

  static invalidParams(message: string): RpcError {
    return new RpcError(INVALID_PARAMS, message);
  }

  static unsupported(message: string): RpcError {
    return new RpcError(METHOD_NOT_FOUND, message);
  }

  static internal(message: string): RpcError {
    return new RpcError(INTERNAL_ERROR, message);
  }
}

const MANAGER_CODES: Record<ThreadManagerErrorCode, number> = {
  ThreadNotLoaded: INVALID_REQUEST,
  ThreadNotFound: INVALID_REQUEST,
  NoRolloutFound: INVALID_REQUEST,
  NoArchivedRolloutFound: INVALID_REQUEST,
  ThreadArchived: INVALID_REQUEST,
  ThreadClosing: INVALID_REQUEST,
  ThreadAlreadyRunning: INVALID_REQUEST,
  EphemeralThread: INVALID_REQUEST,
  ThreadNotPersisted: INVALID_REQUEST,
  NotMaterialized: INVALID_REQUEST,
  TurnNotFound: INVALID_REQUEST,
  InvalidCursor: INVALID_REQUEST,
  InvalidRequest: INVALID_REQUEST,
  Unsupported: METHOD_NOT_FOUND,
  Internal: INTERNAL_ERROR,
};

const STORE_CODES: Record<ThreadStoreErrorCode, number> = {
  ThreadNotFound: INVALID_REQUEST,
  InvalidRequest: INVALID_REQUEST,
  Conflict: INVALID_REQUEST,
  Unsupported: METHOD_NOT_FOUND,
  ResourceExhausted: INTERNAL_ERROR,
  Internal: INTERNAL_ERROR,
};

/** The wire message of a store error: Codex shows the payload, not the Rust display prefix. */
function storeMessage(error: ThreadStoreError): string {
  switch (error.code) {
    case 'ThreadNotFound':
      return `no rollout found for thread id ${error.threadId ?? error.detail}`;
    case 'Unsupported':
      return `${error.operation ?? error.detail} is not supported yet`;
    case 'Internal':
    case 'ResourceExhausted':
      return error.message;
    default:
      return error.detail;
  }
}

/** Maps anything a handler throws to the JSON-RPC error sent back. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof ThreadManagerError)
    return new RpcError(MANAGER_CODES[error.code], error.message);
  if (error instanceof ThreadStoreError)
    return new RpcError(STORE_CODES[error.code], storeMessage(error));
  const text = error instanceof Error ? error.message : String(error);
  return RpcError.internal(text);
}
