/** Every way the state layer fails, as a closed set callers can switch on. */
export type StateErrorCode =
  | 'OpenFailed'
  | 'MigrationFailed'
  | 'InvalidCursor'
  | 'InvalidArgument'
  | 'LeaseLost'
  | 'BackfillTimedOut'
  | 'Closed'
  | 'QueryFailed';

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
