/**
 * Exit codes of the `skein` command. They are part of its interface (scripts test them), so
 * each one has a single meaning and `skein --help` prints this table.
 */
export const EXIT = {
  ok: 0,
  /** An unexpected failure (a bug, an I/O error, a store error we did not anticipate). */
  failure: 1,
  /** Bad usage: unknown option, malformed id, cursor or file argument, ambiguous prefix. */
  usage: 2,
  /** The thread (id, id prefix or name) does not exist in this home. */
  notFound: 3,
  /** Refused: the operation would overwrite or lose data, or needs a confirmation it lacks. */
  refused: 4,
  /** `doctor` found problems (without `--repair`, or some could not be repaired). */
  problems: 5,
} as const;

/**
 * One of the `EXIT` codes (0 ok, 1 failure, 2 usage, 3 not found, 4 refused, 5 doctor problems).
 */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected failure (I/O error, store error)
  2  bad usage (unknown option, malformed id/cursor/file, ambiguous id prefix)
  3  thread not found
  4  refused (would overwrite or lose data, or a confirmation is missing)
  5  doctor found problems (not repaired, or not repairable)`;

export type CliErrorCode = 'Usage' | 'NotFound' | 'Refused' | 'Failure';

const EXIT_BY_CODE: Record<CliErrorCode, ExitCode> = {
  Usage: EXIT.usage,
  NotFound: EXIT.notFound,
  Refused: EXIT.refused,
  Failure: EXIT.failure,
};

/** The one error type of the CLI boundary: a message for stderr and the exit code it implies. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  /** Extra lines printed under the message (candidates, hints). */
  readonly details: readonly string[];

  constructor(
    code: CliErrorCode,
    message: string,
    options: { details?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }

  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }

  static usage(message: string, details?: readonly string[]): CliError {
    return new CliError('Usage', message, details === undefined ? {} : { details });
  }

  static notFound(message: string): CliError {
    return new CliError('NotFound', message);
  }

  static refused(message: string, details?: readonly string[]): CliError {
    return new CliError('Refused', message, details === undefined ? {} : { details });
  }

  static failure(message: string, cause?: unknown): CliError {
    return new CliError('Failure', message, cause === undefined ? {} : { cause });
  }
}
