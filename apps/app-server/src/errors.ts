/**
 * JSON-RPC errors, and the ONE table that maps errors from the layers below to JSON-RPC codes
 * (spec §0.2): -32600 invalid request (validation, not-found, state), -32601 unsupported by
 * the store, -32602 a few list-filter errors, -32603 internal.
 */
import { ThreadManagerError, type ThreadManagerErrorCode } from '@skein/thread-manager';
import {
  ThreadStoreError,
  type ThreadStoreErrorCode,
  unreadableRolloutOf,
} from '@skein/thread-store';

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

/** The request an error answers: 0.169.0 words some errors per method. */
export interface RequestContext {
  method: string;
  params: unknown;
}

/** How 0.169.0 prefixes a store's error when a thread's rollout cannot be read. */
const UNREADABLE_PREFIXES: Readonly<Record<string, (threadId: string) => string>> = {
  'thread/read': () => 'failed to read thread: ',
  'thread/resume': () => 'failed to read thread: ',
  'thread/fork': () => 'failed to read thread: ',
  'thread/turns/list': () => 'failed to read thread: ',
  'thread/readState/update': () => 'failed to read thread: ',
  'thread/archive': () => 'failed to archive session: ',
  'thread/unarchive': () => 'failed to unarchive session: ',
  'thread/delete': () => 'failed to delete thread: ',
  'thread/name/set': (id) =>
    `failed to set thread name: Fatal error: failed to update thread metadata ${id}: `,
  'thread/metadata/update': (id) =>
    `failed to update thread metadata: Fatal error: failed to update thread metadata ${id}: `,
};

/**
 * A thread whose rollout exists but cannot be read answers -32603 with 0.169.0's text for the
 * method (probed on the real binary: its store's nested error chain behind a per-method
 * prefix; `thread/items/list` reads the file's lineage first and says so).
 */
function unreadableRolloutAnswer(
  error: ThreadStoreError,
  request: RequestContext,
): RpcError | null {
  const rollout = unreadableRolloutOf(error);
  if (rollout === null) return null;
  if (request.method === 'thread/items/list') {
    return RpcError.internal(
      `failed to list thread items: thread-store internal error: failed to read lineage metadata ${rollout.path}: ${rollout.reason}`,
    );
  }
  const prefix = UNREADABLE_PREFIXES[request.method];
  if (prefix === undefined) return null;
  const threadId = (request.params as { threadId?: unknown } | null)?.threadId;
  return RpcError.internal(`${prefix(String(threadId ?? ''))}${error.message}`);
}

/** Whether an error reports damage in the home's files (a rollout that cannot be read). */
export function isDamagedHomeError(error: unknown): boolean {
  return error instanceof ThreadStoreError && unreadableRolloutOf(error) !== null;
}

/** Maps anything a handler throws to the JSON-RPC error sent back. */
export function toRpcError(error: unknown, request?: RequestContext): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof ThreadStoreError && request !== undefined) {
    const answer = unreadableRolloutAnswer(error, request);
    if (answer !== null) return answer;
  }
  if (error instanceof ThreadManagerError)
    return new RpcError(MANAGER_CODES[error.code], error.message);
  if (error instanceof ThreadStoreError)
    return new RpcError(STORE_CODES[error.code], storeMessage(error));
  const text = error instanceof Error ? error.message : String(error);
  return RpcError.internal(text);
}
