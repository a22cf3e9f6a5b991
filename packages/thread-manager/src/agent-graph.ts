/**
 * Where the sub-agent tree comes from. Cascading archive / unarchive / delete need a thread's
 * persisted spawn descendants in discovery (breadth-first) order, open and closed edges alike.
 * They come through the store (its spawn-edge index, else its relation listing): the manager
 * touches no SQL.
 */
import type { ThreadId, ThreadStore } from '@skein/thread-store';

/**
 * Where the sub-agent tree comes from, for cascading archive, unarchive and delete:
 * `storeAgentGraph` (the store's spawn edges or relation listing) or your own.
 */
export interface AgentGraph {
  /** Persisted spawn descendants of `threadId` (not itself), breadth first. */
  listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[]>;
}
/** Bounds the breadth-first walk: a corrupt edge set must not loop forever. */
const MAX_TREE_NODES = 10_000;
const CHILD_PAGE_SIZE = 100;

/**
 * The store's sub-agent tree: its spawn-edge index when it has one
 * (`ThreadStore.listSpawnDescendants`: a home's state DB, PostgreSQL), else a breadth-first walk
 * of its own relation filter (`directChildrenOf`; a home answering from its files, a gRPC
 * store): active and archived collections, every provider, children ordered by id.
 *
 * No source list is passed: a spawned child's source is `{subagent:{thread_spawn:{...}}}`,
 * whose payload (parent id, depth, nickname) no fixed list can name, and stores match sources
 * by their exact encoding. An empty list is the store's default, which filters nothing.
 */
export function storeAgentGraph(store: ThreadStore): AgentGraph {
  async function children(parent: ThreadId): Promise<ThreadId[]> {
    const found = new Set<ThreadId>();
    for (const archived of [false, true]) {
      let cursor: string | null = null;
      for (let page = 0; page < MAX_TREE_NODES / CHILD_PAGE_SIZE; page += 1) {
        const result = await store.listThreads({
          pageSize: CHILD_PAGE_SIZE,
          cursor,
          archived,
          modelProviders: [],
          allowedSources: [],
          relationFilter: { kind: 'directChildrenOf', threadId: parent },
        });
        for (const thread of result.items) found.add(thread.threadId);
        cursor = result.nextCursor;
        if (cursor === null) break;
      }
    }
    return [...found].sort();
  }
  return {
    async listSpawnDescendants(threadId) {
      const indexed = await store.listSpawnDescendants?.(threadId);
      if (indexed != null) return indexed;
      const seen = new Set<ThreadId>([threadId]);
      const order: ThreadId[] = [];
      const queue: ThreadId[] = [threadId];
      while (queue.length > 0 && order.length < MAX_TREE_NODES) {
        const parent = queue.shift() as ThreadId;
        for (const child of await children(parent)) {
          if (seen.has(child)) continue;
          seen.add(child);
          order.push(child);
          queue.push(child);
        }
      }
      return order;
    },
  };
}

/** The graph a `ThreadManager` uses unless told otherwise: `storeAgentGraph(store)`. */
export function defaultAgentGraph(store: ThreadStore): AgentGraph {
  return storeAgentGraph(store);
}
