import { resolve } from 'node:path';
import { Readable } from 'node:stream';

/** A stream the CLI writes to: the process's stdout/stderr, or a test's capture. */
export type OutStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
/** Where `import -` reads from and where confirmations are typed. */
export type InStream = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * Everything one run of the CLI takes from its surroundings. `main.ts` passes the process's
 * own; tests pass their own streams and environment, so runs in one process stay apart.
 */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly stdin: InStream;
  /** Relative paths in arguments (`--codex-home`, `-o`, `--cwd`, import files) start here. */
  readonly cwd: string;
}

/**
 * One invocation of `runCli`: its arguments, environment, streams and working directory. Nothing
 * is taken from `process`, so runs in one process stay apart.
 */
export interface RunCliOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: OutStream;
  stderr: OutStream;
  /** Default: an empty, non-terminal input. */
  stdin?: InStream;
  /** Default: `process.cwd()`. */
  cwd?: string;
}

export function cliIo(options: RunCliOptions): CliIo {
  return {
    env: options.env,
    stdout: options.stdout,
    stderr: options.stderr,
    stdin: options.stdin ?? Readable.from([]),
    cwd: resolve(options.cwd ?? process.cwd()),
  };
}

/** A path argument as an absolute path, relative ones from the run's working directory. */
export function resolvePath(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}
