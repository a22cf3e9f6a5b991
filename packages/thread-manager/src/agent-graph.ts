/**
 * Where the sub-agent tree comes from. Cascading archive / unarchive / delete need a thread's
 * persisted spawn descendants in discovery (breadth-first) order, open and closed edges alike.
 */
import { listDescendantThreads, type StateContext } from '@skein/state';
import type { ThreadId, ThreadStore } from '@skein/thread-store';

/**
 * Where the sub-agent tree comes from, for cascading archive, unarchive and delete:
 * `stateAgentGraph` (spawn edges in the state DB), `storeAgentGraph` (the store's relation
 * listing) or your own.
 */
export interface AgentGraph {
  /** Persisted spawn descendants of `threadId` (not itself), breadth first. */
  listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[]>;
}

/**
 * The spawn edges of the state DB (`thread_spawn_edges`, open and closed), through the state
 * package's query. Takes the handle apps build with `initStateDb` (or a bare `StateContext`).
 */
export function stateAgentGraph(state: StateContext | { readonly ctx: StateContext }): AgentGraph {
  const ctx = 'ctx' in state ? state.ctx : state;
  return {
    async listSpawnDescendants(threadId) {
      const edges = await listDescendantThreads(ctx, threadId);
      return edges.map((edge) => edge.childId);
    },
  };
}

/** Bounds the breadth-first walk: a corrupt edge set must not loop forever. */
const MAX_TREE_NODES = 10_000;
const CHILD_PAGE_SIZE = 100;

/**
 * A graph over the store's own relation filter (`directChildrenOf`), for stores without a
 * state handle (a home without its index, PostgreSQL, a gRPC store): active and archived
 * collections, every provider. Children are ordered by id.
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

/**
 * The state DB's edges when the store exposes its handle (`LocalThreadStore.stateDb`), else
 * the store's own relation listing.
 */
export function defaultAgentGraph(store: ThreadStore): AgentGraph {
  const stateDb = (store as { readonly stateDb?: unknown }).stateDb;
  if (typeof stateDb === 'object' && stateDb !== null && 'ctx' in stateDb) {
    return stateAgentGraph(stateDb as { readonly ctx: StateContext });
  }
  return storeAgentGraph(store);
}
