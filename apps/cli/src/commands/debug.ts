import { readThreadHistory } from '@skein/rollout';
import type { CommandContext } from '../context.js';
import { findThreadFileOnDisk, resolveThreadRefOnDisk } from '../disk-lookup.js';
import { EXIT, type ExitCode } from '../errors.js';
import { type PromptLine, reconstructPromptInput } from '../prompt-input.js';

/**
 * `skein debug prompt-input <thread>`: files only. It resolves the thread from file names and
 * `session_index.jsonl`, reads the rollout with the rollout package's history reader (which
 * prepends a 0.169 fork-by-reference's inherited base lines), and never opens, creates or
 * touches a SQLite file.
 */
export async function runDebugPromptInput(
  ctx: CommandContext,
  ref: string,
  options: { json?: boolean },
): Promise<ExitCode> {
  const { path: home } = await ctx.home();
  const threadId = await resolveThreadRefOnDisk(home, ref);
  const lines = await loadLinesWithBase(ctx, home, threadId);
  const input = reconstructPromptInput(lines);
  ctx.out.printJson(input.items);
  if (!options.json) {
    ctx.out.note(
      `${input.items.length} input items for ${threadId}` +
        (input.compactions > 0 ? `, after ${input.compactions} compaction(s)` : '') +
        (input.rollbacks > 0 ? `, after ${input.rollbacks} rollback(s)` : ''),
    );
  }
  return EXIT.ok;
}

async function loadLinesWithBase(
  ctx: CommandContext,
  home: string,
  threadId: string,
): Promise<PromptLine[]> {
  const path = await findThreadFileOnDisk(home, threadId);
  const history = await readThreadHistory(home, path);
  for (const missing of history.missingBases) {
    ctx.out.stderr.write(
      `warning: base thread ${missing} of this fork is missing; its part is left out\n`,
    );
  }
  return [...history.inheritedLines, ...history.lines].map((line) => ({
    type: line.type === 'opaque' ? line.kind : line.type,
    payload: line.payload,
    ordinal: line.ordinal,
  }));
}
