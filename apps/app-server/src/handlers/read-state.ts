/**
 * Read receipts on the wire (`readStates` of `thread/list`, `readState` of `thread/read`).
 * 0.169.0 answers, for a durable thread without a receipt row in its state DB, the initial
 * state: `{firstUnread: null, revision: "initial:<thread id>"}` (seen for every thread of a
 * home written by 0.131, and for fresh forks). Skein's store does not read Codex's receipt
 * table yet, so every durable thread gets that initial state. Sub-agent threads have no read
 * state in 0.169.0 (absent from `readStates`, `readState: null`), and neither has a thread
 * only loaded in memory (never written).
 */
import type { StoredThread } from '@skein/thread-store';

export interface WireReadState {
  firstUnread: { type: 'threadStart' } | { type: 'turn'; turnId: string } | null;
  revision: string;
}

export function initialReadState(threadId: string): WireReadState {
  return { firstUnread: null, revision: `initial:${threadId}` };
}

/** The read state of a stored thread, or null for a sub-agent thread. */
export function readStateOf(
  thread: Pick<StoredThread, 'threadId' | 'source'>,
): WireReadState | null {
  const source = thread.source;
  if (typeof source === 'object' && source !== null && 'subagent' in source) return null;
  return initialReadState(thread.threadId);
}
