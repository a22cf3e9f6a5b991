import { spawn } from 'node:child_process';
import type { CommandContext } from './context.js';

/**
 * Long output on a terminal goes through a pager, as `git log` does: `SKEIN_PAGER`, else
 * `PAGER`, else `less` (with `LESS=FRX` unless set: quit when it fits, keep colours, leave the
 * text on screen). Never when stdout is not the process's own terminal (a pipe, a file, a
 * test's capture), when the text fits the screen, with `--no-pager`, or when the pager is
 * empty or `cat`. A pager that cannot start falls back to printing.
 */
export async function writePaged(
  ctx: CommandContext,
  text: string,
  options: { pager?: boolean } = {},
): Promise<void> {
  const command = pagerCommand(ctx, text, options.pager !== false);
  if (command === null) {
    ctx.out.stdout.write(text);
    return;
  }
  const paged = await runPager(command, text, ctx.io.env);
  if (!paged) ctx.out.stdout.write(text);
}

function pagerCommand(ctx: CommandContext, text: string, wanted: boolean): string | null {
  const { io, out } = ctx;
  if (!wanted || out.json || !out.stdoutIsTty || io.stdout !== process.stdout) return null;
  const command = (io.env.SKEIN_PAGER ?? io.env.PAGER ?? 'less').trim();
  if (command === '' || command === 'cat') return null;
  const rows = process.stdout.rows ?? 24;
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines >= rows ? command : null;
}

/** Runs the pager on `text` with the terminal as its output; false if it could not start. */
function runPager(command: string, text: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { ...env, LESS: env.LESS ?? 'FRX' },
    });
    let started = false;
    child.on('spawn', () => {
      started = true;
    });
    child.on('error', () => resolve(false));
    // The reader quitting early (q in less) closes the pipe: not an error.
    child.stdin.on('error', () => {});
    child.on('close', (code) => resolve(started && code !== 127));
    child.stdin.end(text);
  });
}
