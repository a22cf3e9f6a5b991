import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { describeAccessError } from './access-errors.js';
import type { Action, WrapOptions } from './command-types.js';
import { createContext, parseStoreSpec } from './context.js';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './errors.js';
import { groupThousands } from './format.js';
import { type CliIo, cliIo, type RunCliOptions } from './io.js';
import { createOutput } from './output.js';
import { SKEIN_VERSION } from './version.js';

/**
 * The `skein` command tree. Each action gets a context that resolves the home and builds the
 * state handle, store and manager once, on first use (`debug prompt-input` never asks for
 * them, so it never opens SQLite).
 */

interface GlobalOptions {
  codexHome?: string;
  store?: string;
}

/** A `--limit` parser: a whole number from 1 to `max`; anything else is a usage error. */
function limitParser(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${groupThousands(max)}`);
    }
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((part) => part !== '')];
}

/**
 * One run of `skein`: parses `argv`, runs the command and returns its exit code. Everything
 * it reads or writes comes from `options` (never `process.*`), and it never exits the
 * process, so a test can run it many times in one process; `main.ts` wraps it for the shell.
 */
export async function runCli(options: RunCliOptions): Promise<ExitCode> {
  const io = cliIo(options);
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command();
  // With --json anywhere, errors are JSON too (even those commander finds before it knows
  // which command the option belongs to), so scripts parse one format.
  const json = options.argv.includes('--json');

  const wrap =
    <T extends { json?: boolean }>(action: Action<T>, options: WrapOptions = {}) =>
    async (...raw: unknown[]): Promise<void> => {
      // commander passes (...positionals, options, command)
      const command = raw[raw.length - 1] as Command;
      const opts = command.opts<T>();
      const positionals = raw.slice(0, -2).flat() as string[];
      const global = program.opts<GlobalOptions>();
      const out = createOutput({
        json: opts.json === true,
        env: io.env,
        stdout: io.stdout,
        stderr: io.stderr,
      });
      const store = parseStoreSpec(global.store);
      if (store.kind !== 'local' && options.homeFiles !== undefined) {
        throw CliError.usage(
          `skein ${options.homeFiles} works on the files of a Codex home; it cannot use --store ${store.spec} (use --codex-home DIR instead)`,
        );
      }
      const ctx = createContext({
        out,
        io,
        homeFlag: global.codexHome,
        store,
        allowCreateHome: options.allowCreateHome === true,
      });
      try {
        exitCode = (await action(ctx, opts, positionals)) ?? EXIT.ok;
      } finally {
        await ctx.close();
      }
    };

  program
    .name('skein')
    .description(
      'Manage the threads of a Codex home: list, read, search, rename, archive, delete,\n' +
        'export/import, and verify or repair the home. Works beside the Codex CLI.',
    )
    .version(SKEIN_VERSION, '-V, --version')
    .option(
      '--codex-home <dir>',
      'the Codex home to use (default: $CODEX_HOME, else ~/.codex; with neither, a demo home)',
    )
    .option(
      '--store <spec>',
      'where threads live: the local Codex home (default), postgres://… or grpc://HOST:PORT',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n`)
    .exitOverride()
    .configureOutput({
      // In JSON mode commander's own error text is replaced by the JSON error (reportError).
      writeErr: (text) => (json ? undefined : io.stderr.write(text)),
      writeOut: (text) => io.stdout.write(text),
      getOutHelpWidth: () => (io.stdout.isTTY ? (io.stdout.columns ?? 80) : 80),
      getErrHelpWidth: () => (io.stderr.isTTY ? (io.stderr.columns ?? 80) : 80),
      getOutHasColors: () => hasColors(io, io.stdout),
      getErrHasColors: () => hasColors(io, io.stderr),
    });

  const { registerCommands } = await import('./commands/index.js');
  registerCommands(program, wrap, { limitParser, collect, Option });

  try {
    await program.parseAsync([...options.argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(io, error, json);
  }
}

/** Commander's colour rule for help text (NO_COLOR, FORCE_COLOR, else a terminal), per run. */
function hasColors(io: CliIo, stream: CliIo['stdout']): boolean {
  if (io.env.NO_COLOR || io.env.FORCE_COLOR === '0' || io.env.FORCE_COLOR === 'false') return false;
  if (io.env.FORCE_COLOR || io.env.CLICOLOR_FORCE !== undefined) return true;
  return stream.isTTY === true;
}

function reportError(io: CliIo, error: unknown, json: boolean): ExitCode {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    ) {
      return EXIT.ok;
    }
    if (json) writeJsonError(io, CliError.usage(error.message.replace(/^error: /, '')));
    return EXIT.usage;
  }
  const cliError = toCliError(error);
  if (json) {
    writeJsonError(io, cliError);
    return cliError.exitCode;
  }
  const out = createOutput({ json: false, env: io.env, stdout: io.stdout, stderr: io.stderr });
  out.error(cliError.message);
  for (const detail of cliError.details) io.stderr.write(`  ${detail}\n`);
  if (cliError.code === 'Failure' && io.env.SKEIN_DEBUG && error instanceof Error) {
    io.stderr.write(`${error.stack ?? ''}\n`);
  }
  return cliError.exitCode;
}

/**
 * An error as `--json` prints it on stderr: `{"error": {"code", "message", "exitCode",
 * "details"?}}`, one line; the exit code is the same as without `--json`.
 */
function writeJsonError(io: CliIo, error: CliError): void {
  const body = {
    code: error.code,
    message: error.message,
    exitCode: error.exitCode,
    ...(error.details.length > 0 ? { details: error.details } : {}),
  };
  io.stderr.write(`${JSON.stringify({ error: body })}\n`);
}

/** Maps errors from the packages below onto the CLI's exit codes (by their `code`). */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    switch (error.code) {
      case 'ThreadNotFound':
      case 'NotFound':
        return CliError.notFound(error.message);
      case 'InvalidRequest':
      case 'InvalidCursor':
        return CliError.usage(error.message);
      case 'Conflict':
      case 'AlreadyExists':
        return CliError.refused(error.message);
      default:
        break;
    }
  }
  // A home or file this user cannot write: say which, in plain words.
  const access = describeAccessError(error);
  if (access !== null) return CliError.failure(access, error);
  const message = error instanceof Error ? error.message : String(error);
  return CliError.failure(message, error);
}
