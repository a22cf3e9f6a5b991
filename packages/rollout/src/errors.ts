import { isThreadId, type ThreadId } from '@skein/protocol';

/** Every failure the rollout package reports, as a closed set of codes. */
export type RolloutErrorCode =
  /** The rollout file has no non-blank line. */
  | 'EmptyFile'
  /** No `session_meta` line: the file's thread id is unknown. */
  | 'MissingSessionMeta'
  /** The file's own `session_meta` names a `history_mode` this reader does not know. */
  | 'UnsupportedHistoryMode'
  /** A listing cursor that is neither `ts` nor `ts|uuid`. */
  | 'InvalidCursor'
  /** A thread id that is not a UUID, or a path outside the Codex home. */
  | 'InvalidArgument'
  /** The recorder was shut down or discarded (or failed terminally). */
  | 'RecorderClosed'
  /** A file-system operation failed (the cause carries the Node error). */
  | 'Io';

/**
 * The error of the rollout package: a closed `code` (`EmptyFile`, `MissingSessionMeta`,
 * `UnsupportedHistoryMode`, `InvalidCursor`, `Io`, …) and a message.
 */
export class RolloutError extends Error {
  override readonly name = 'RolloutError';
  readonly code: RolloutErrorCode;

  constructor(code: RolloutErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Whether `value` is a `RolloutError` (optionally with `code`). */
export function isRolloutError(value: unknown, code?: RolloutErrorCode): value is RolloutError {
  return value instanceof RolloutError && (code === undefined || value.code === code);
}

/** A thread id argument as a lowercase UUID, or `InvalidArgument`. */
export function requireThreadId(value: string, what = 'thread id'): ThreadId {
  if (!isThreadId(value)) throw new RolloutError('InvalidArgument', `invalid ${what}: ${value}`);
  return value.toLowerCase() as ThreadId;
}

/** Node's `ENOENT` (and friends) without a type assertion at every call site. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
