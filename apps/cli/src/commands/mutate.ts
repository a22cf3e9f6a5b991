import type { ThreadId } from '@skein/thread-store';
import { confirm } from '../confirm.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { oneLine } from '../format.js';
import { displayTitle } from '../thread-json.js';

interface JsonOption {
  json?: boolean;
}

async function isArchived(ctx: CommandContext, threadId: ThreadId): Promise<boolean> {
  const { store } = await ctx.services();
  const thread = await store.readThread({ threadId, includeArchived: true, includeHistory: false });
  return (
    thread.archivedAtMs !== null || /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath ?? '')
  );
}

async function label(ctx: CommandContext, threadId: ThreadId): Promise<string> {
  const { store } = await ctx.services();
  try {
    const thread = await store.readThread({
      threadId,
      includeArchived: true,
      includeHistory: false,
    });
    return `${threadId} ${ctx.out.errColor.dim(`(${oneLine(displayTitle(thread), 50)})`)}`;
  } catch {
    return threadId;
  }
}

export async function runRename(
  ctx: CommandContext,
  ref: string,
  name: string,
  _options: JsonOption,
): Promise<ExitCode> {
  const trimmed = name.trim();
  if (trimmed === '') throw CliError.usage('thread name must not be empty');
  const threadId = await ctx.resolveThread(ref);
  const services = await ctx.services();
  if (await isArchived(ctx, threadId)) {
    throw CliError.refused(
      `thread ${threadId} is archived; unarchive it before renaming (as Codex requires)`,
    );
  }
  await services.setThreadName(threadId, trimmed);
  if (ctx.out.json) ctx.out.printJson({ threadId, name: trimmed });
  else ctx.out.line(`Renamed ${threadId} to "${trimmed}".`);
  return EXIT.ok;
}

export async function runArchive(
  ctx: CommandContext,
  ref: string,
  options: JsonOption,
): Promise<ExitCode> {
  const threadId = await ctx.resolveThread(ref);
  if (await isArchived(ctx, threadId))
    throw CliError.refused(`thread ${threadId} is already archived`);
  const services = await ctx.services();
  const ids = await services.archiveTree(threadId);
  report(ctx, 'archived', ids, options);
  return EXIT.ok;
}

export async function runUnarchive(
  ctx: CommandContext,
  ref: string,
  options: JsonOption,
): Promise<ExitCode> {
  const threadId = await ctx.resolveThread(ref);
  if (!(await isArchived(ctx, threadId)))
    throw CliError.refused(`thread ${threadId} is not archived`);
  const services = await ctx.services();
  const ids = await services.unarchiveTree(threadId);
  report(ctx, 'unarchived', ids, options);
  return EXIT.ok;
}

export interface DeleteOptions extends JsonOption {
  yes?: boolean;
}

export async function runDelete(
  ctx: CommandContext,
  ref: string,
  options: DeleteOptions,
): Promise<ExitCode> {
  const threadId = await ctx.resolveThread(ref);
  const services = await ctx.services();
  const affected = await services.subtreeIds(threadId);
  if (!options.yes) {
    if (!ctx.io.stdin.isTTY || !ctx.out.stderrIsTty) {
      throw CliError.refused(
        `not deleting ${threadId} without confirmation: pass --yes (no terminal to ask on)`,
      );
    }
    ctx.out.stderr.write(
      `This permanently deletes ${affected.length === 1 ? 'this thread' : `these ${affected.length} threads (the thread and its sub-agents)`}:\n`,
    );
    for (const id of affected) ctx.out.stderr.write(`  ${await label(ctx, id)}\n`);
    if (!(await confirm('Delete?', { input: ctx.io.stdin, output: ctx.out.stderr }))) {
      ctx.out.note('Nothing deleted.');
      return EXIT.refused;
    }
  }
  const ids = await services.deleteTree(threadId);
  report(ctx, 'deleted', ids, options);
  return EXIT.ok;
}

function report(
  ctx: CommandContext,
  verb: string,
  ids: readonly string[],
  options: JsonOption,
): void {
  if (options.json) {
    ctx.out.printJson({ [verb]: ids });
    return;
  }
  const [root, ...rest] = ids;
  ctx.out.line(
    `${verb[0]?.toUpperCase()}${verb.slice(1)} ${root ?? '(nothing)'}${rest.length > 0 ? ` and ${rest.length} sub-agent thread${rest.length === 1 ? '' : 's'}` : ''}.`,
  );
  for (const id of rest) ctx.out.line(ctx.out.color.dim(`  ${verb} ${id}`));
}
