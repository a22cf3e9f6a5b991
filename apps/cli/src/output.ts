import pc from 'picocolors';
import type { OutStream } from './io.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Where a command writes: stdout for results, stderr for notes, warnings and errors. */
export interface Output {
  readonly json: boolean;
  /** stdout is a terminal (tables get colour and width; progress bars may draw on stderr). */
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  readonly color: Colors;
  /** Colours for stderr (it may be a terminal while stdout is piped, or the reverse). */
  readonly errColor: Colors;
  /** The run's streams, for output that is not a line (an export, a progress bar). */
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  line(text?: string): void;
  /** Prints a value as pretty JSON on stdout (the whole result of a `--json` command). */
  printJson(value: unknown): void;
  note(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Terminal width for layout; 120 when stdout is not a terminal. */
  readonly columns: number;
}

function colorsFor(stream: OutStream, env: NodeJS.ProcessEnv): Colors {
  // NO_COLOR wins over everything; FORCE_COLOR forces colour even into a pipe.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return pc.createColors(false);
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return pc.createColors(true);
  return pc.createColors(stream.isTTY === true && env.TERM !== 'dumb');
}

export function createOutput(options: {
  json: boolean;
  env: NodeJS.ProcessEnv;
  stdout: OutStream;
  stderr: OutStream;
}): Output {
  const { env, stdout, stderr } = options;
  const color = colorsFor(stdout, env);
  const errColor = colorsFor(stderr, env);
  return {
    json: options.json,
    stdoutIsTty: stdout.isTTY === true,
    stderrIsTty: stderr.isTTY === true,
    color,
    errColor,
    stdout,
    stderr,
    columns: stdout.isTTY ? (stdout.columns ?? 100) : 120,
    line(text = '') {
      stdout.write(`${text}\n`);
    },
    printJson(value) {
      stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    note(text) {
      stderr.write(`${errColor.dim(text)}\n`);
    },
    warn(text) {
      stderr.write(`${errColor.yellow('warning:')} ${text}\n`);
    },
    error(text) {
      stderr.write(`${errColor.red(errColor.bold('error:'))} ${text}\n`);
    },
  };
}
