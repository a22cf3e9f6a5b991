import type { AgentGraph } from '@skein/thread-manager';
import type { ThreadId, ThreadStore } from '@skein/thread-store';

const MAX_TREE_NODES = 10_000;
const PAGE_SIZE = 100;

/**
 * Spawn tree from the store's `directChildrenOf` listing, for runs without a state handle.
 * Adapter: thread-manager's `storeAgentGraph` passes an explicit source list that cannot name
 * `{subagent:{thread_spawn}}` sources, so it never finds sub-agents; this asks for every
 * source (`allowedSources: []`) instead.
 */
export function listingAgentGraph(store: ThreadStore): AgentGraph {
  async function children(parent: ThreadId): Promise<ThreadId[]> {
    const found = new Set<ThreadId>();
    for (const archived of [false, true]) {
      let cursor: string | null = null;
      for (let page = 0; page < MAX_TREE_NODES / PAGE_SIZE; page += 1) {
        const result = await store.listThreads({
          pageSize: PAGE_SIZE,
          cursor,
          archived,
          modelProviders: [],
          allowedSources: [],
          relationFilter: { kind: 'directChildrenOf', threadId: parent },
        });
        for (const thread of result.items) {
          if (thread.parentThreadId === parent) found.add(thread.threadId);
        }
        if (result.nextCursor === null || result.nextCursor === cursor) break;
        cursor = result.nextCursor;
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
