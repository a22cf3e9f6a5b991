/** The `skein` command as a function: what `main.ts` runs, and what tests run in-process. */
export { runCli } from './cli.js';
export { EXIT, type ExitCode } from './errors.js';
export type { InStream, OutStream, RunCliOptions } from './io.js';
