/**
 * The cascades over a sub-agent tree: archive, unarchive and delete a thread with its spawn
 * descendants (the tree from the store's spawn edges plus live sub-agents the store does not
 * know yet), as Codex 0.169 does, with events after the result.
 *
 * Crash safety: each member is one store operation (the store's own crash note applies to it);
 * the cascade is not atomic. A crash mid-way leaves the root done and some descendants not;
 * running the cascade again on the root finishes it, members already moved or gone being
 * skipped (`tryStoreOperation`).
 */
import type { StoredThread, ThreadId, ThreadStore } from '@skein/thread-store';
import type { AgentGraph } from './agent-graph.js';
import { ThreadManagerError } from './errors.js';
import type { LoadedThread } from './loaded-thread.js';
import { isMissingThread, isStoreError } from './store-errors.js';

/** What the cascades need of the manager: its store and graph, its loaded threads, its events. */
export interface CascadeHost {
  readonly store: ThreadStore;
  readonly agentGraph: AgentGraph;
  loadedThread(threadId: ThreadId): LoadedThread | undefined;
  loadedThreadIds(): ThreadId[];
  /** Refuses (`no rollout found`) a thread the store does not hold as active. */
  assertActiveStored(threadId: ThreadId): Promise<StoredThread>;
  /** Shuts a loaded member down and forgets it (no-op for an unloaded one). */
  prepareForRemoval(threadId: ThreadId): Promise<void>;
  /** Emits one event per thread, in order, once the caller has its result. */
  emitAfterResult(
    kind: 'archived' | 'unarchived' | 'deleted',
    threadIds: readonly ThreadId[],
  ): void;
}

/**
 * `[threadId]`, then its persisted spawn descendants (breadth first), then loaded
 * descendants the store does not know yet (live sub-agents), de-duplicated.
 */
export async function listAgentSubtree(host: CascadeHost, threadId: ThreadId): Promise<ThreadId[]> {
  const order: ThreadId[] = [threadId];
  const seen = new Set<ThreadId>(order);
  for (const id of await host.agentGraph.listSpawnDescendants(threadId)) {
    if (seen.has(id)) continue;
    seen.add(id);
    order.push(id);
  }
  // Live descendants: loaded threads whose parent chain reaches a member.
  let grew = true;
  while (grew) {
    grew = false;
    for (const id of host.loadedThreadIds()) {
      const parent = host.loadedThread(id)?.parentThreadId;
      if (!seen.has(id) && parent != null && seen.has(parent)) {
        seen.add(id);
        order.push(id);
        grew = true;
      }
    }
  }
  return order;
}

/**
 * Archives a thread and its spawn descendants. The root must be stored and not archived
 * (`no rollout found for thread id <id>`; ephemeral likewise); a loaded pristine root is
 * materialized first (Codex 0.169). Loaded members are shut down (`statusChanged notLoaded`
 * during the call); missing descendants are skipped. `archived` events after the result:
 * root, then descendants in reverse discovery order (P, G, C).
 */
export async function archiveThreadTree(
  host: CascadeHost,
  threadId: ThreadId,
): Promise<{ archivedThreadIds: ThreadId[] }> {
  const loaded = host.loadedThread(threadId);
  if (loaded !== undefined) {
    if (loaded.ephemeral) throw ThreadManagerError.noRolloutFound(threadId);
    if (!loaded.materialized) await loaded.persist();
  } else {
    await host.assertActiveStored(threadId);
  }
  const subtree = await listAgentSubtree(host, threadId);
  for (const member of subtree) await host.prepareForRemoval(member);
  try {
    await host.store.archiveThread({ threadId });
  } catch (error) {
    if (isMissingThread(error)) {
      throw ThreadManagerError.noRolloutFound(threadId, error);
    }
    throw error;
  }
  const descendants: ThreadId[] = [];
  for (const member of subtree.slice(1)) {
    if (await tryStoreOperation(() => host.store.archiveThread({ threadId: member }))) {
      descendants.push(member);
    }
  }
  const archivedThreadIds = [threadId, ...descendants.reverse()];
  host.emitAfterResult('archived', archivedThreadIds);
  return { archivedThreadIds };
}

/**
 * Restores an archived thread and its archived spawn descendants. Not archived / unknown ⇒
 * `no archived rollout found for thread id <id>`. `unarchived` events after the result:
 * root, then descendants in discovery order (P, C, G).
 */
export async function unarchiveThreadTree(
  host: CascadeHost,
  threadId: ThreadId,
): Promise<{ thread: StoredThread; unarchivedThreadIds: ThreadId[] }> {
  let thread: StoredThread;
  try {
    thread = await host.store.unarchiveThread({ threadId });
  } catch (error) {
    if (isMissingThread(error)) {
      throw ThreadManagerError.noArchivedRolloutFound(threadId, error);
    }
    throw error;
  }
  const unarchivedThreadIds: ThreadId[] = [threadId];
  const subtree = await listAgentSubtree(host, threadId);
  for (const member of subtree.slice(1)) {
    if (await tryStoreOperation(() => host.store.unarchiveThread({ threadId: member }))) {
      unarchivedThreadIds.push(member);
    }
  }
  host.emitAfterResult('unarchived', unarchivedThreadIds);
  return { thread, unarchivedThreadIds };
}

/**
 * Hard-deletes a thread and its spawn descendants (active or archived). Ephemeral ⇒
 * `thread is not persisted and cannot be deleted: <id>`; unknown ⇒ `no rollout found ...`; a
 * loaded never-materialized thread can be deleted. Loaded members are shut down first.
 * `deleted` events after the result, deepest first, root last (G, C, P).
 */
export async function deleteThreadTree(
  host: CascadeHost,
  threadId: ThreadId,
): Promise<{ deletedThreadIds: ThreadId[] }> {
  const loaded = host.loadedThread(threadId);
  if (loaded?.ephemeral === true) throw ThreadManagerError.threadNotPersisted(threadId);
  const rootWasLoaded = loaded !== undefined;
  if (!rootWasLoaded) {
    try {
      await host.store.readThread({ threadId, includeArchived: true });
    } catch (error) {
      if (isMissingThread(error)) {
        throw ThreadManagerError.noRolloutFound(threadId, error);
      }
      throw error;
    }
  }
  const subtree = await listAgentSubtree(host, threadId);
  for (const member of subtree) await host.prepareForRemoval(member);
  const deletedThreadIds: ThreadId[] = [];
  for (const member of [...subtree].reverse()) {
    if (member !== threadId) {
      if (await tryStoreOperation(() => host.store.deleteThread({ threadId: member }))) {
        deletedThreadIds.push(member);
      }
      continue;
    }
    try {
      await host.store.deleteThread({ threadId });
    } catch (error) {
      // A loaded thread that never materialized has nothing stored: deleting it is unloading it.
      if (!(rootWasLoaded && isMissingThread(error))) {
        if (isMissingThread(error)) {
          throw ThreadManagerError.noRolloutFound(threadId, error);
        }
        throw error;
      }
    }
    deletedThreadIds.push(threadId);
  }
  host.emitAfterResult('deleted', deletedThreadIds);
  return { deletedThreadIds };
}

/** Runs a cascade step on a descendant; a missing or already-moved one is skipped. */
async function tryStoreOperation(operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (isMissingThread(error) || isStoreError(error, 'InvalidRequest', 'Conflict')) return false;
    throw error;
  }
}
