/**
 * Parsed histories of recently paged threads. History rows are append-only and dense (seq
 * 1..n, committed atomically), so a thread's cached lines stay a valid prefix: the next page
 * reads only rows after it. Bounded by the JSON size of the cached items, least recently used
 * first out; a thread larger than the whole budget is never cached.
 */
import type { RolloutLine, ThreadId } from '@skein/thread-store';

export interface CachedHistory {
  /** Tells a thread from a deleted-and-recreated one of the same id (its `created_at_ms`). */
  generation: number;
  lines: RolloutLine[];
  /** Sum of the cached rows' JSON lengths. */
  bytes: number;
}

export class HistoryLineCache {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<ThreadId, CachedHistory>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** How many leading items of a thread are cached (0 if none), without touching recency. */
  cachedCount(threadId: ThreadId): number {
    return this.entries.get(threadId)?.lines.length ?? 0;
  }

  /** The cached prefix of a thread, if it is still the same thread. */
  get(threadId: ThreadId, generation: number): CachedHistory | undefined {
    const entry = this.entries.get(threadId);
    if (entry === undefined) return undefined;
    this.entries.delete(threadId);
    if (entry.generation !== generation) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(threadId, entry);
    return entry;
  }

  set(threadId: ThreadId, entry: CachedHistory): void {
    this.delete(threadId);
    if (entry.bytes > this.maxBytes) return;
    this.entries.set(threadId, entry);
    this.bytes += entry.bytes;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.bytes;
    }
  }

  delete(threadId: ThreadId): void {
    const entry = this.entries.get(threadId);
    if (entry === undefined) return;
    this.entries.delete(threadId);
    this.bytes -= entry.bytes;
  }

  get size(): number {
    return this.entries.size;
  }
}
