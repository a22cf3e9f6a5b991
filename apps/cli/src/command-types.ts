import type { Option } from 'commander';
import type { CommandContext } from './context.js';
import type { ExitCode } from './errors.js';

/*
 * The contract between the program (cli.ts) and the commands it registers lazily
 * (commands/index.ts): kept apart so neither imports the other.
 */

/** Per-command wiring options. */
export interface WrapOptions {
  /** `import` may create the home it imports into. */
  allowCreateHome?: boolean;
  /**
   * The command works on a Codex home's files (rollout bytes, the SQLite index), so it names
   * itself here and refuses a `--store` that is not the local home.
   */
  homeFiles?: string;
}

/** A command's body: the run's context, its parsed options and arguments; its exit code. */
export type Action<T> = (
  ctx: CommandContext,
  options: T,
  args: string[],
) => Promise<ExitCode | undefined>;

/** Turns a command's body into commander's action: context, errors and exit code handled. */
export type Wrap = <T extends { json?: boolean }>(
  action: Action<T>,
  options?: WrapOptions,
) => (...raw: unknown[]) => Promise<void>;

/** Parsers and commander's `Option`, handed to the commands as they register. */
export interface CommandHelpers {
  limitParser: (max: number) => (value: string) => number;
  collect: (value: string, previous: string[] | undefined) => string[];
  Option: typeof Option;
}
