/**
 * The one error type of the ThreadManager boundary. Every code carries the exact message text
 * the Codex app-server (0.169.0) answers with (spec manager-appserver §2, §4), so the app-server
 * only has to map `code` to a JSON-RPC number: `Unsupported` → -32601, `Internal` → -32603,
 * everything else → -32600. Store errors that the spec passes through unchanged are rethrown
 * as the original `ThreadStoreError`, not wrapped.
 */

export type ThreadManagerErrorCode =
  /** `thread not loaded: <id>` — read of an id that is neither stored nor loaded. */
  | 'ThreadNotLoaded'
  /** `thread not found: <id>` — an operation that needs a loaded thread (inject items). */
  | 'ThreadNotFound'
  /** `no rollout found for thread id <id>` — missing, pristine, ephemeral or archived root. */
  | 'NoRolloutFound'
  /** `no archived rollout found for thread id <id>` — unarchive of a non-archived thread. */
  | 'NoArchivedRolloutFound'
  /** `session <id> is archived. Run \`codex unarchive <id>\` to unarchive it first.` */
  | 'ThreadArchived'
  /** `thread <id> is closing; retry ...` — the thread is being unloaded. */
  | 'ThreadClosing'
  /** `thread <id> is already running` — a start/fork with an id that is loaded. */
  | 'ThreadAlreadyRunning'
  /** `ephemeral thread does not support metadata updates: <id>` and the other ephemeral refusals. */
  | 'EphemeralThread'
  /** `thread is not persisted and cannot be deleted: <id>`. */
  | 'ThreadNotPersisted'
  /** `thread <id> is not materialized yet; <what> is unavailable before first user message`. */
  | 'NotMaterialized'
  /** `turn not found: <id>` (and fork from an in-progress turn). */
  | 'TurnNotFound'
  /** `invalid cursor: <cursor>`. */
  | 'InvalidCursor'
  /** Validation of a request value (`thread name must not be empty`, gitInfo rules, ...). */
  | 'InvalidRequest'
  /** `<op> is not supported yet` — JSON-RPC -32601. */
  | 'Unsupported'
  /** Anything unexpected — JSON-RPC -32603. */
  | 'Internal';

/** Every `ThreadManagerErrorCode`, for exhaustive mapping (the app-server's JSON-RPC table). */
export const THREAD_MANAGER_ERROR_CODES: readonly ThreadManagerErrorCode[] = [
  'ThreadNotLoaded',
  'ThreadNotFound',
  'NoRolloutFound',
  'NoArchivedRolloutFound',
  'ThreadArchived',
  'ThreadClosing',
  'ThreadAlreadyRunning',
  'EphemeralThread',
  'ThreadNotPersisted',
  'NotMaterialized',
  'TurnNotFound',
  'InvalidCursor',
  'InvalidRequest',
  'Unsupported',
  'Internal',
];

/** What is unavailable before a thread's first user message (the `<what>` of the message). */
export type HistoryPurpose = 'includeTurns' | 'thread/turns/list';

/**
 * The error of the ThreadManager boundary: a `code` and Codex's exact message text for it (`thread
 * not loaded: <id>`, …). Store errors passed through unchanged stay `ThreadStoreError`s.
 */
export class ThreadManagerError extends Error {
  override readonly name = 'ThreadManagerError';
  readonly code: ThreadManagerErrorCode;
  /** The thread (or turn, for `TurnNotFound`) the error is about, when there is one. */
  readonly threadId: string | undefined;

  private constructor(
    code: ThreadManagerErrorCode,
    message: string,
    extra: { threadId?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? {} : { cause: extra.cause });
    this.code = code;
    this.threadId = extra.threadId;
  }

  static threadNotLoaded(threadId: string): ThreadManagerError {
    return new ThreadManagerError('ThreadNotLoaded', `thread not loaded: ${threadId}`, {
      threadId,
    });
  }

  static threadNotFound(threadId: string): ThreadManagerError {
    return new ThreadManagerError('ThreadNotFound', `thread not found: ${threadId}`, { threadId });
  }

  static noRolloutFound(threadId: string, cause?: unknown): ThreadManagerError {
    return new ThreadManagerError('NoRolloutFound', `no rollout found for thread id ${threadId}`, {
      threadId,
      cause,
    });
  }

  static noArchivedRolloutFound(threadId: string, cause?: unknown): ThreadManagerError {
    return new ThreadManagerError(
      'NoArchivedRolloutFound',
      `no archived rollout found for thread id ${threadId}`,
      { threadId, cause },
    );
  }

  static threadArchived(threadId: string): ThreadManagerError {
    return new ThreadManagerError(
      'ThreadArchived',
      `session ${threadId} is archived. Run \`codex unarchive ${threadId}\` to unarchive it first.`,
      { threadId },
    );
  }

  /** While a thread unloads: resume gets the resume wording, subscribing the generic one. */
  static threadClosing(threadId: string, operation: 'resume' | 'subscribe'): ThreadManagerError {
    const retry = operation === 'resume' ? 'retry thread/resume' : 'retry';
    return new ThreadManagerError(
      'ThreadClosing',
      `thread ${threadId} is closing; ${retry} after the thread is closed`,
      { threadId },
    );
  }

  static threadAlreadyRunning(threadId: string): ThreadManagerError {
    return new ThreadManagerError('ThreadAlreadyRunning', `thread ${threadId} is already running`, {
      threadId,
    });
  }

  static ephemeralMetadataUpdate(threadId: string): ThreadManagerError {
    return new ThreadManagerError(
      'EphemeralThread',
      `ephemeral thread does not support metadata updates: ${threadId}`,
      { threadId },
    );
  }

  static ephemeralHistory(threadId: string, purpose: HistoryPurpose): ThreadManagerError {
    return new ThreadManagerError(
      'EphemeralThread',
      `ephemeral threads do not support ${purpose}`,
      {
        threadId,
      },
    );
  }

  static threadNotPersisted(threadId: string): ThreadManagerError {
    return new ThreadManagerError(
      'ThreadNotPersisted',
      `thread is not persisted and cannot be deleted: ${threadId}`,
      { threadId },
    );
  }

  static notMaterialized(threadId: string, purpose: HistoryPurpose): ThreadManagerError {
    return new ThreadManagerError(
      'NotMaterialized',
      `thread ${threadId} is not materialized yet; ${purpose} is unavailable before first user message`,
      { threadId },
    );
  }

  static turnNotFound(turnId: string): ThreadManagerError {
    return new ThreadManagerError('TurnNotFound', `turn not found: ${turnId}`, {
      threadId: turnId,
    });
  }

  static turnInProgress(turnId: string): ThreadManagerError {
    return new ThreadManagerError('TurnNotFound', `turn ${turnId} is still in progress`, {
      threadId: turnId,
    });
  }

  static invalidCursor(cursor: string): ThreadManagerError {
    return new ThreadManagerError('InvalidCursor', `invalid cursor: ${cursor}`);
  }

  static invalidRequest(message: string, threadId?: string): ThreadManagerError {
    return new ThreadManagerError('InvalidRequest', message, { threadId });
  }

  /** `<operation> is not supported yet`, e.g. `list_turns is not supported yet`. */
  static unsupported(operation: string, cause?: unknown): ThreadManagerError {
    return new ThreadManagerError('Unsupported', `${operation} is not supported yet`, { cause });
  }

  static internal(message: string, cause?: unknown): ThreadManagerError {
    return new ThreadManagerError('Internal', message, { cause });
  }
}

/** Whether `error` is a `ThreadManagerError` (optionally with one of `codes`). */
export function isThreadManagerError(
  value: unknown,
  code?: ThreadManagerErrorCode,
): value is ThreadManagerError {
  return value instanceof ThreadManagerError && (code === undefined || value.code === code);
}
