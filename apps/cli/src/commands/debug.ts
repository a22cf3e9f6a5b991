import { readRollout } from '@skein/rollout';
import type { CommandContext } from '../context.js';
import { findThreadFileOnDisk, resolveThreadRefOnDisk } from '../disk-lookup.js';
import { EXIT, type ExitCode } from '../errors.js';
import { forkBaseOf, type PromptLine, reconstructPromptInput } from '../prompt-input.js';

/** Forks of forks of forks: a bound so a cycle in damaged files cannot loop forever. */
const MAX_FORK_DEPTH = 32;

/**
 * `skein debug prompt-input <thread>`: files only. It resolves the thread from file names and
 * `session_index.jsonl`, reads the rollout (and, for a 0.169 fork-by-reference, its base
 * thread's lines before the fork point), and never opens, creates or touches a SQLite file.
 */
export async function runDebugPromptInput(
  ctx: CommandContext,
  ref: string,
  options: { json?: boolean },
): Promise<ExitCode> {
  const { path: home } = await ctx.home();
  const threadId = await resolveThreadRefOnDisk(home, ref);
  const lines = await loadLinesWithBase(home, threadId, 0);
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
  home: string,
  threadId: string,
  depth: number,
): Promise<PromptLine[]> {
  const path = await findThreadFileOnDisk(home, threadId);
  const read = await readRollout(path);
  const lines: PromptLine[] = read.lines.map((line) => ({
    type: line.type === 'opaque' ? line.kind : line.type,
    payload: line.payload,
    ordinal: line.ordinal,
  }));
  const base = forkBaseOf(lines);
  if (base === null || depth >= MAX_FORK_DEPTH) return lines;
  const baseLines = await loadLinesWithBase(home, base.threadId, depth + 1);
  const end = base.endOrdinalExclusive;
  const prefix =
    end === null ? baseLines : baseLines.filter((l) => l.ordinal === undefined || l.ordinal < end);
  // The base's own session_meta stays first; the fork's meta follows as in a copied fork.
  return [...prefix, ...lines];
}
