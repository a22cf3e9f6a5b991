import pc from 'picocolors';

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
  line(text?: string): void;
  /** Prints a value as pretty JSON on stdout (the whole result of a `--json` command). */
  printJson(value: unknown): void;
  note(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Terminal width for layout; 120 when stdout is not a terminal. */
  readonly columns: number;
}

function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Colors {
  // NO_COLOR wins over everything; FORCE_COLOR forces colour even into a pipe.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return pc.createColors(false);
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return pc.createColors(true);
  return pc.createColors(stream.isTTY === true && env.TERM !== 'dumb');
}

export function createOutput(options: { json: boolean; env?: NodeJS.ProcessEnv }): Output {
  const env = options.env ?? process.env;
  const color = colorsFor(process.stdout, env);
  const errColor = colorsFor(process.stderr, env);
  return {
    json: options.json,
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    color,
    errColor,
    columns: process.stdout.isTTY ? (process.stdout.columns ?? 100) : 120,
    line(text = '') {
      process.stdout.write(`${text}\n`);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    note(text) {
      process.stderr.write(`${errColor.dim(text)}\n`);
    },
    warn(text) {
      process.stderr.write(`${errColor.yellow('warning:')} ${text}\n`);
    },
    error(text) {
      process.stderr.write(`${errColor.red(errColor.bold('error:'))} ${text}\n`);
    },
  };
}
