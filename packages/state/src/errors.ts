/** Every way the state layer fails, as a closed set callers can switch on. */
export type StateErrorCode =
  | 'OpenFailed'
  | 'MigrationFailed'
  | 'InvalidCursor'
  | 'InvalidArgument'
  | 'LeaseLost'
  | 'BackfillTimedOut'
  | 'Closed'
  | 'QueryFailed'
  /** The DB's schema is not one Skein writes (an unknown or newer Codex): files only. */
  | 'ReadOnly'
  /** A compare-and-set lost (a read receipt changed since the caller read it). */
  | 'Conflict';

/**
 * The one error of this package: a closed `code` (`OpenFailed`, `ReadOnly`, `Conflict`, …) and a
 * message, with the underlying error as `cause`.
 */
export class StateError extends Error {
  override readonly name = 'StateError';

  constructor(
    readonly code: StateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error's message, or what a thrown non-error says. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
