import { readBackfillState, StateRuntime } from '@skein/state';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { plural } from '../format.js';
import { createProgress } from '../progress.js';
import { buildServices } from '../services.js';

async function run(
  ctx: CommandContext,
  reindex: boolean,
  _options: { json?: boolean },
): Promise<ExitCode> {
  const { path: home } = await ctx.home();
  const started = Date.now();
  const progress = createProgress(ctx.out, reindex ? 'reindex' : 'backfill');
  const services = await buildServices(home, ctx.out, { progress, reindex });
  await services.close();
  const runtime = await StateRuntime.open({ sqliteHome: home });
  let summary: { status: string; filesDone: number; filesFailed: number };
  try {
    const state = await readBackfillState(runtime.ctx);
    summary = { status: state.status, filesDone: state.filesDone, filesFailed: state.filesFailed };
  } finally {
    await runtime.close();
  }
  const elapsedMs = Date.now() - started;
  if (ctx.out.json) {
    ctx.out.printJson({ home, ...summary, elapsedMs });
  } else {
    ctx.out.line(
      `${reindex ? 'Reindexed' : 'Backfill'} ${summary.status}: ${plural(summary.filesDone, 'file')} indexed` +
        `${summary.filesFailed > 0 ? `, ${summary.filesFailed} failed` : ''} in ${(elapsedMs / 1000).toFixed(1)} s.`,
    );
  }
  return summary.status === 'complete' ? EXIT.ok : EXIT.failure;
}

export function runBackfill(ctx: CommandContext, options: { json?: boolean }): Promise<ExitCode> {
  return run(ctx, false, options);
}

export function runReindex(ctx: CommandContext, options: { json?: boolean }): Promise<ExitCode> {
  return run(ctx, true, options);
}
