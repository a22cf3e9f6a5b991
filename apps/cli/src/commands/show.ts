import { type RolloutLine, readRollout, readThreadHistory } from '@skein/rollout';
import type { RolloutItem, StoredThread, ThreadStore } from '@skein/thread-store';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { shortDateTime, tildePath } from '../format.js';
import { writePaged } from '../pager.js';
import { toThreadJson } from '../thread-json.js';
import { buildTranscript, renderTranscript } from '../transcript.js';

export interface ShowOptions {
  json?: boolean;
  full?: boolean;
  metadataOnly?: boolean;
  /** `--no-pager` sets it false. */
  pager?: boolean;
}

export async function runShow(
  ctx: CommandContext,
  ref: string,
  options: ShowOptions,
): Promise<ExitCode> {
  const { store, home } = await ctx.services();
  const threadId = await ctx.resolveThread(ref);
  const thread = await store.readThread({ threadId, includeArchived: true, includeHistory: false });
  // The transcript comes from the rollout file itself (the store refuses to load paginated
  // 0.169 histories; the file always has them), or from the store when there is no file.
  const items = options.metadataOnly ? [] : await readRolloutItems(store, thread);
  const out = ctx.out;
  if (out.json) {
    out.printJson({
      thread: toThreadJson(thread),
      archived: isArchived(thread),
      ...(options.metadataOnly ? {} : { items }),
    });
    return EXIT.ok;
  }
  // Built whole, then printed through the pager on a terminal (long transcripts).
  const lines: string[] = [];
  const emit = (text = '') => lines.push(text);
  printMetadata(ctx, thread, emit);
  if (!options.metadataOnly) {
    emit();
    // A 0.169 fork by reference keeps its base's turns in the base's file: show them first.
    const inherited = await readInheritedItems(home, thread);
    let turnsBefore = 0;
    if (inherited.items.length > 0) {
      const base = buildTranscript(inherited.items);
      turnsBefore = base.filter((entry) => entry.kind === 'turn').length;
      emit(out.color.dim(`(history inherited from ${inherited.from.join(' ← ')})`));
      emit(
        renderTranscript(base, {
          color: out.color,
          full: options.full === true,
          width: out.columns,
        }),
      );
      emit();
      emit(out.color.dim('(this thread from here on)'));
    }
    const entries = buildTranscript(items, turnsBefore);
    if (entries.length === 0) out.note('(no messages)');
    else
      emit(
        renderTranscript(entries, {
          color: out.color,
          full: options.full === true,
          width: out.columns,
        }),
      );
  }
  await writePaged(ctx, `${lines.join('\n')}\n`, { pager: options.pager !== false });
  return EXIT.ok;
}

function asItems(lines: readonly RolloutLine[]): RolloutItem[] {
  return lines.map((line) => {
    if (line.type !== 'opaque') return line as RolloutItem;
    const { kind, ...rest } = line;
    return { ...rest, type: kind } as RolloutItem;
  });
}

async function readInheritedItems(
  home: string,
  thread: StoredThread,
): Promise<{ items: RolloutItem[]; from: string[] }> {
  if (!thread.rolloutPath || !thread.forkedFromId) return { items: [], from: [] };
  try {
    const history = await readThreadHistory(home, thread.rolloutPath);
    const from = history.inheritedLines.length > 0 ? [thread.forkedFromId] : [];
    return { items: asItems(history.inheritedLines), from };
  } catch {
    return { items: [], from: [] };
  }
}

/**
 * Every parsed line of the thread's rollout, as on disk (`timestamp`, `type`, `payload`, …);
 * for a store without rollout files (PostgreSQL, gRPC), the history the store keeps.
 */
async function readRolloutItems(store: ThreadStore, thread: StoredThread): Promise<RolloutItem[]> {
  if (!thread.rolloutPath) {
    const history = await store.loadHistory({ threadId: thread.threadId, includeArchived: true });
    return history.items;
  }
  const read = await readRollout(thread.rolloutPath);
  return asItems(read.lines);
}

function isArchived(thread: StoredThread): boolean {
  return (
    thread.archivedAtMs !== null || /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath ?? '')
  );
}

function printMetadata(
  ctx: CommandContext,
  thread: StoredThread,
  emit: (text: string) => void,
): void {
  const { out } = ctx;
  const c = out.color;
  const home = ctx.io.env.HOME ?? '';
  const rows: [string, string][] = [];
  rows.push(['id', thread.threadId]);
  if (thread.name) rows.push(['name', thread.name]);
  if (thread.preview) rows.push(['preview', thread.preview]);
  rows.push(['cwd', tildePath(thread.cwd, home)]);
  rows.push(['created', shortDateTime(thread.createdAtMs)]);
  rows.push(['updated', shortDateTime(thread.updatedAtMs)]);
  if (isArchived(thread)) {
    rows.push(['archived', thread.archivedAtMs ? shortDateTime(thread.archivedAtMs) : 'yes']);
  }
  const model = [thread.modelProvider, thread.model, thread.reasoningEffort].filter(Boolean);
  rows.push(['model', model.join(' / ')]);
  const source = typeof thread.source === 'string' ? thread.source : JSON.stringify(thread.source);
  rows.push(['source', source]);
  if (thread.parentThreadId) {
    rows.push([
      'parent',
      `${thread.parentThreadId}${thread.agentNickname ? ` (agent ${thread.agentNickname})` : ''}`,
    ]);
  }
  if (thread.forkedFromId) rows.push(['forked from', thread.forkedFromId]);
  const git = thread.gitInfo;
  if (git && (git.branch || git.commitHash || git.repositoryUrl)) {
    rows.push([
      'git',
      [git.branch, git.commitHash?.slice(0, 10), git.repositoryUrl].filter(Boolean).join(' '),
    ]);
  }
  if (thread.tokenUsage) rows.push(['tokens', String(thread.tokenUsage.totalTokens)]);
  if (thread.rolloutPath) rows.push(['file', tildePath(thread.rolloutPath, home)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) emit(`${c.dim(key.padEnd(width))}  ${value}`);
}
