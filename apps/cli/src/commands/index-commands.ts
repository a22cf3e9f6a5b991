import { existsSync } from 'node:fs';
import { readBackfillState, StateRuntime, stateDbPath } from '@skein/state';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { plural } from '../format.js';
import { createProgress } from '../progress.js';
import { buildServices } from '../services.js';

interface BackfillSummary {
  status: string;
  filesDone: number;
  filesFailed: number;
}

async function readSummary(home: string): Promise<BackfillSummary | null> {
  if (!existsSync(stateDbPath(home))) return null;
  const runtime = await StateRuntime.open({ sqliteHome: home });
  try {
    const state = await readBackfillState(runtime);
    return { status: state.status, filesDone: state.filesDone, filesFailed: state.filesFailed };
  } finally {
    await runtime.close();
  }
}

/**
 * `backfill` fills the state index once (what every command does on first use, here with a
 * progress bar); `reindex` re-reads every rollout file into it (names and other explicit
 * metadata are kept by the upsert).
 */
async function run(ctx: CommandContext, reindex: boolean): Promise<ExitCode> {
  const { path: home } = await ctx.home();
  const before = reindex ? null : await readSummary(home);
  const started = Date.now();
  const progress = createProgress(ctx.out, reindex ? 'reindex' : 'backfill');
  const services = await buildServices(home, ctx.out, { progress, reindex, waitForIndex: true });
  await services.close();
  const summary = (await readSummary(home)) ?? {
    status: 'unavailable',
    filesDone: 0,
    filesFailed: 0,
  };
  const elapsedMs = Date.now() - started;
  const alreadyComplete = before?.status === 'complete';
  if (ctx.out.json) {
    ctx.out.printJson({ home, ...summary, alreadyComplete, elapsedMs });
  } else if (alreadyComplete) {
    ctx.out.line(
      `The state index is already complete (${plural(summary.filesDone, 'file')} indexed); nothing to do. ` +
        '`skein reindex` re-reads every file.',
    );
  } else {
    ctx.out.line(
      `${reindex ? 'Reindex' : 'Backfill'} ${summary.status}: ${plural(summary.filesDone, 'file')} indexed` +
        `${summary.filesFailed > 0 ? `, ${summary.filesFailed} failed (see skein doctor)` : ''} in ${(elapsedMs / 1000).toFixed(1)} s.`,
    );
  }
  return summary.status === 'complete' ? EXIT.ok : EXIT.failure;
}

export function runBackfill(ctx: CommandContext, _options: { json?: boolean }): Promise<ExitCode> {
  return run(ctx, false);
}

export function runReindex(ctx: CommandContext, _options: { json?: boolean }): Promise<ExitCode> {
  return run(ctx, true);
}
