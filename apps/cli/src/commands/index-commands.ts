import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readBackfillSummary } from '@skein/rollout';
import { stateDbPath } from '@skein/state';
import { unwritableReason } from '../access-errors.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { plural } from '../format.js';
import { createProgress } from '../progress.js';
import { buildServices } from '../services.js';

/**
 * `backfill` and `reindex` write Codex's index in the home's `sqlite_home`: refuse plainly,
 * before anything else, when this user cannot write it (or the files SQLite keeps beside it).
 */
function assertIndexWritable(sqliteHome: string, command: string): void {
  const db = stateDbPath(sqliteHome);
  for (const path of [db, `${db}-wal`, `${db}-shm`, sqliteHome]) {
    if (path !== sqliteHome && !existsSync(path)) continue;
    const reason = unwritableReason(path);
    if (reason !== null) {
      throw CliError.failure(
        `skein ${command} cannot build the index: cannot write ${path}: ${reason} (it writes Codex's index, ${basename(db)}, in ${sqliteHome})`,
        undefined,
      );
    }
  }
}

/**
 * `backfill` fills the state index once (what every command does on first use, here with a
 * progress bar); `reindex` re-reads every rollout file into it (names and other explicit
 * metadata are kept by the upsert).
 */
async function run(ctx: CommandContext, reindex: boolean): Promise<ExitCode> {
  const location = await ctx.home();
  const { path: home, sqliteHome } = location;
  assertIndexWritable(sqliteHome, reindex ? 'reindex' : 'backfill');
  const before = reindex ? null : await readBackfillSummary(sqliteHome);
  if (before?.readOnlyReason) {
    throw CliError.refused(
      `skein ${reindex ? 'reindex' : 'backfill'} does not write this home's index: ${before.readOnlyReason}`,
    );
  }
  const started = Date.now();
  const progress = createProgress(ctx.out, reindex ? 'reindex' : 'backfill');
  const services = await buildServices(location, ctx.out, {
    progress,
    reindex,
    waitForIndex: true,
  });
  await services.close();
  const summary = (await readBackfillSummary(sqliteHome)) ?? {
    status: 'unavailable',
    filesDone: 0,
    filesFailed: 0,
    readOnlyReason: null,
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
