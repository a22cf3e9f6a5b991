/** The one error type of the ThreadStore boundary (spec thread-store §2). */

export type ThreadStoreErrorCode =
  | 'ThreadNotFound'
  | 'InvalidRequest'
  | 'Conflict'
  | 'Unsupported'
  | 'ResourceExhausted'
  | 'Internal';

/** Stable operation names carried by `Unsupported` errors. */
export type UnsupportedOperation =
  | 'thread/search'
  | 'list_turns'
  | 'list_items'
  | 'paginated_threads'
  | 'read_receipts'
  | 'projects'
  | 'conversation_retention'
  | 'read_thread_by_rollout_path';

/** Every `ThreadStoreErrorCode`, for exhaustive mapping (gRPC statuses, JSON-RPC codes). */
export const THREAD_STORE_ERROR_CODES: readonly ThreadStoreErrorCode[] = [
  'ThreadNotFound',
  'InvalidRequest',
  'Conflict',
  'Unsupported',
  'ResourceExhausted',
  'Internal',
];

/**
 * The one error of the `ThreadStore` boundary: a `code` (`ThreadNotFound`, `InvalidRequest`,
 * `Conflict`, `Unsupported`, `ResourceExhausted`, `Internal`), Codex's display message, the
 * payload `detail`, and for `Unsupported` the operation's stable name.
 */
export class ThreadStoreError extends Error {
  override readonly name = 'ThreadStoreError';
  readonly code: ThreadStoreErrorCode;
  /** Set for `ThreadNotFound`. */
  readonly threadId: string | undefined;
  /** Set for `Unsupported`. */
  readonly operation: UnsupportedOperation | undefined;
  /** The payload message without its prefix (the `message` argument of the constructors). */
  readonly detail: string;

  private constructor(
    code: ThreadStoreErrorCode,
    detail: string,
    extra: { threadId?: string; operation?: UnsupportedOperation; cause?: unknown } = {},
  ) {
    super(displayMessage(code, detail), extra.cause === undefined ? {} : { cause: extra.cause });
    this.code = code;
    this.detail = detail;
    this.threadId = extra.threadId;
    this.operation = extra.operation;
  }

  static threadNotFound(threadId: string): ThreadStoreError {
    return new ThreadStoreError('ThreadNotFound', threadId, { threadId });
  }

  static invalidRequest(message: string, cause?: unknown): ThreadStoreError {
    return new ThreadStoreError('InvalidRequest', message, { cause });
  }

  static conflict(message: string, cause?: unknown): ThreadStoreError {
    return new ThreadStoreError('Conflict', message, { cause });
  }

  static unsupported(operation: UnsupportedOperation): ThreadStoreError {
    return new ThreadStoreError('Unsupported', operation, { operation });
  }

  static resourceExhausted(message: string, cause?: unknown): ThreadStoreError {
    return new ThreadStoreError('ResourceExhausted', message, { cause });
  }

  static internal(message: string, cause?: unknown): ThreadStoreError {
    return new ThreadStoreError('Internal', message, { cause });
  }

  /** Rebuilds an error from its code and payload (for transports such as gRPC). */
  static fromCode(code: ThreadStoreErrorCode, detail: string): ThreadStoreError {
    switch (code) {
      case 'ThreadNotFound':
        return ThreadStoreError.threadNotFound(detail);
      case 'Unsupported':
        return ThreadStoreError.unsupported(detail as UnsupportedOperation);
      default:
        return new ThreadStoreError(code, detail);
    }
  }

  /** JSON-friendly form; `message` is the display string. */
  toJSON(): { code: ThreadStoreErrorCode; message: string; detail: string } {
    return { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Whether `error` is a `ThreadStoreError` (optionally with one of `codes`). */
export function isThreadStoreError(value: unknown): value is ThreadStoreError {
  return value instanceof ThreadStoreError;
}

function displayMessage(code: ThreadStoreErrorCode, detail: string): string {
  switch (code) {
    case 'ThreadNotFound':
      return `thread ${detail} not found`;
    case 'InvalidRequest':
      return `invalid thread-store request: ${detail}`;
    case 'Conflict':
      return `thread-store conflict: ${detail}`;
    case 'Unsupported':
      return `thread-store unsupported operation: ${detail}`;
    case 'ResourceExhausted':
      return `thread-store resource exhausted: ${detail}`;
    case 'Internal':
      return `thread-store internal error: ${detail}`;
  }
}

/** Wraps any thrown value as `Internal`, passing ThreadStoreErrors through unchanged. */
export function toThreadStoreError(error: unknown, context?: string): ThreadStoreError {
  if (error instanceof ThreadStoreError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return ThreadStoreError.internal(context === undefined ? text : `${context}: ${text}`, error);
}

/** A rollout that exists but cannot be read: where it is, and why (`rollout at … is empty`). */
export interface UnreadableRollout {
  path: string;
  reason: string;
}

const UNREADABLE_PREFIX = 'failed to read session metadata ';

/**
 * The `Internal` error for a rollout that exists but cannot be read (emptied, or its first line
 * is not a session meta), worded as Codex 0.169's store words it (its nested error chain), so
 * the app-server can answer each method with 0.169.0's exact text.
 */
export function unreadableRolloutError(
  rollout: UnreadableRollout,
  cause?: unknown,
): ThreadStoreError {
  const once = `${UNREADABLE_PREFIX}${rollout.path}`;
  return ThreadStoreError.internal(
    `${once}: ${displayMessage('Internal', `${once}: ${rollout.reason}`)}`,
    cause,
  );
}

/** The rollout an `unreadableRolloutError` names (also after a transport rebuilt it), or null. */
export function unreadableRolloutOf(error: unknown): UnreadableRollout | null {
  if (!(error instanceof ThreadStoreError) || error.code !== 'Internal') return null;
  const detail = error.detail;
  if (!detail.startsWith(UNREADABLE_PREFIX)) return null;
  const inner = `: ${displayMessage('Internal', UNREADABLE_PREFIX)}`;
  const cut = detail.indexOf(inner);
  if (cut < 0) return null;
  const path = detail.slice(UNREADABLE_PREFIX.length, cut);
  const rest = detail.slice(cut + inner.length);
  if (!rest.startsWith(`${path}: `)) return null;
  return { path, reason: rest.slice(path.length + 2) };
}

/** Fails `Unsupported{paginated_threads}` for paginated history (neither store supports it). */
export function rejectPaginatedHistoryMode(mode: string | undefined | null): void {
  if (mode === 'paginated') throw ThreadStoreError.unsupported('paginated_threads');
}
