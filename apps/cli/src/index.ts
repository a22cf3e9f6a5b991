/**
 * The `skein` command as a library: `runCli` runs one invocation on given streams (what tests
 * run in-process); `runMain` runs it as this process. The executable is the `skein` package.
 */
export { runCli } from './cli.js';
export { EXIT, type ExitCode } from './errors.js';
export type { InStream, OutStream, RunCliOptions } from './io.js';
export { runMain } from './run-main.js';
