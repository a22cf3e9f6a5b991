/**
 * Read receipts on the wire (`readStates` of `thread/list`, `readState` of `thread/read`), as
 * 0.169.0 answers them from its `thread_read_receipts`: a thread without a receipt reads as
 * `{firstUnread: null, revision: "initial:<thread id>"}` (every thread of a home whose DB
 * keeps no receipts, fresh forks). Sub-agent threads have no read state in 0.169.0 (absent
 * from `readStates`, `readState: null`), and neither has a thread only loaded in memory.
 */
import type { StoredThread, ThreadId } from '@skein/thread-store';
import type { HandlerContext } from './context.js';

export interface WireReadState {
  firstUnread: { type: 'threadStart' } | { type: 'turn'; turnId: string } | null;
  revision: string;
}

export function initialReadState(threadId: string): WireReadState {
  return { firstUnread: null, revision: `initial:${threadId}` };
}

function hasReadState(thread: Pick<StoredThread, 'source'>): boolean {
  const source = thread.source;
  return !(typeof source === 'object' && source !== null && 'subagent' in source);
}

/** The read states of stored threads, keyed by id (sub-agents left out). */
export async function readStatesOf(
  ctx: HandlerContext,
  threads: readonly Pick<StoredThread, 'threadId' | 'source'>[],
): Promise<Record<string, WireReadState>> {
  const ids = threads.filter(hasReadState).map((thread) => thread.threadId as ThreadId);
  const out: Record<string, WireReadState> = {};
  if (ids.length === 0) return out;
  const states = await ctx.manager.readStates(ids);
  for (const id of ids) out[id] = states.get(id) ?? initialReadState(id);
  return out;
}

/** Thread sources Codex knows; any other is a client's own label. */
const CODEX_THREAD_SOURCES: ReadonlySet<string> = new Set([
  'user',
  'subagent',
  'memory_consolidation',
]);

/**
 * The read state of one stored thread, or null for a sub-agent thread and (on `thread/read`,
 * as 0.169.0 answers; its list still shows one) a thread with a client's own thread source.
 */
export async function readStateOf(
  ctx: HandlerContext,
  thread: Pick<StoredThread, 'threadId' | 'source' | 'threadSource'>,
): Promise<WireReadState | null> {
  if (thread.threadSource !== null && !CODEX_THREAD_SOURCES.has(thread.threadSource)) return null;
  return (await readStatesOf(ctx, [thread]))[thread.threadId] ?? null;
}
