import { runCli } from './cli.js';

/**
 * The `skein` process: runs the CLI on this process's arguments, environment and streams and
 * sets the exit code. What the `skein` bin (package `skein`) and `dist/main.js` run.
 */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // Let piping into `head` end quietly instead of crashing on EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.exitCode = await runCli({
    argv,
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  });
}
