/**
 * Cascades over a sub-agent tree when the only spawn-edge source is the store's own listing
 * (a Codex home without its state index — the same path PostgreSQL and gRPC stores take).
 * Children carry `{subagent:{thread_spawn:{...}}}` sources, which a fixed source list cannot
 * name: the graph must still find them.
 */
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { LocalThreadStore, type ThreadId } from '@skein/thread-store';
import { agentMessageItem, userMessageItem } from '@skein/thread-store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAgentGraph, storeAgentGraph, ThreadManager } from '../src/index.js';
import { rolloutFiles } from './local-home.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Tree {
  home: string;
  store: LocalThreadStore;
  manager: ThreadManager;
  parent: ThreadId;
  child: ThreadId;
  grandchild: ThreadId;
  /** A thread outside the tree, which no cascade may touch. */
  bystander: ThreadId;
}

/** parent → child → grandchild (+ a bystander) written to a home with no state DB, unloaded. */
async function buildTree(): Promise<Tree> {
  const home = makeTempDir('skein-agent-graph-home-');
  const cwd = makeTempDir('skein-agent-graph-cwd-');
  const store = new LocalThreadStore({
    codexHome: home,
    defaultModelProvider: 'test-provider',
    warn: () => {},
  });
  const manager = new ThreadManager({
    store,
    idleUnloadDelayMs: 0,
    defaultModelProvider: 'test-provider',
  });
  cleanups.push(() => {
    removeTempDir(home);
    removeTempDir(cwd);
  });
  cleanups.push(async () => {
    await manager.shutdownAll(5_000);
  });
  const parent = await manager.startThread({ cwd });
  await parent.recordItems([userMessageItem('plan the work'), agentMessageItem('spawning')]);
  const child = await manager.spawnSubagent(parent.threadId, { agentNickname: 'scout' });
  await child.recordItems([userMessageItem('scout the repo'), agentMessageItem('on it')]);
  const grandchild = await manager.spawnSubagent(child.threadId, { agentRole: 'worker' });
  await grandchild.recordItems([userMessageItem('read one file'), agentMessageItem('done')]);
  const bystander = await manager.startThread({ cwd });
  await bystander.recordItems([userMessageItem('unrelated')]);
  const ids = {
    parent: parent.threadId,
    child: child.threadId,
    grandchild: grandchild.threadId,
    bystander: bystander.threadId,
  };
  // Unloaded, so the cascade can only learn the tree from the store, not from live threads.
  await manager.shutdownAll(5_000);
  expect(manager.listLoadedThreadIds()).toEqual([]);
  return { home, store, manager, ...ids };
}

describe('storeAgentGraph over a home without a state index', () => {
  it('is the graph the manager picks, and finds thread_spawn children breadth first', async () => {
    const tree = await buildTree();
    expect(tree.store.stateDb).toBeUndefined();
    const graph = defaultAgentGraph(tree.store);
    expect(await graph.listSpawnDescendants(tree.parent)).toEqual([tree.child, tree.grandchild]);
    expect(await storeAgentGraph(tree.store).listSpawnDescendants(tree.child)).toEqual([
      tree.grandchild,
    ]);
    expect(await graph.listSpawnDescendants(tree.grandchild)).toEqual([]);
    expect(await tree.manager.listAgentSubtreeThreadIds(tree.parent)).toEqual([
      tree.parent,
      tree.child,
      tree.grandchild,
    ]);
  });

  it('archives, unarchives and deletes the whole tree, and nothing else', async () => {
    const tree = await buildTree();
    const { manager, store } = tree;
    const activeIds = async () =>
      (await store.listThreads({ pageSize: 50, archived: false })).items
        .map((thread) => thread.threadId)
        .sort();
    const archivedIds = async () =>
      (await store.listThreads({ pageSize: 50, archived: true })).items
        .map((thread) => thread.threadId)
        .sort();

    const archived = await manager.archiveThread(tree.parent);
    // Root first, then descendants in reverse discovery order.
    expect(archived.archivedThreadIds).toEqual([tree.parent, tree.grandchild, tree.child]);
    expect(await activeIds()).toEqual([tree.bystander]);
    expect(await archivedIds()).toEqual([tree.parent, tree.child, tree.grandchild].sort());
    expect(rolloutFiles(tree.home, 'archived_sessions')).toHaveLength(3);

    const unarchived = await manager.unarchiveThread(tree.parent);
    expect(unarchived.unarchivedThreadIds).toEqual([tree.parent, tree.child, tree.grandchild]);
    expect(await archivedIds()).toEqual([]);
    expect(await activeIds()).toEqual(
      [tree.parent, tree.child, tree.grandchild, tree.bystander].sort(),
    );

    const deleted = await manager.deleteThread(tree.parent);
    // Deepest first, root last.
    expect(deleted.deletedThreadIds).toEqual([tree.grandchild, tree.child, tree.parent]);
    expect(await activeIds()).toEqual([tree.bystander]);
    expect(rolloutFiles(tree.home, 'sessions')).toHaveLength(1);
    expect(rolloutFiles(tree.home, 'archived_sessions')).toHaveLength(0);
  });

  it('cascades from a sub-agent over its own subtree only', async () => {
    const tree = await buildTree();
    const archived = await tree.manager.archiveThread(tree.child);
    expect(archived.archivedThreadIds).toEqual([tree.child, tree.grandchild]);
    const active = (await tree.store.listThreads({ pageSize: 50, archived: false })).items
      .map((thread) => thread.threadId)
      .sort();
    expect(active).toEqual([tree.parent, tree.bystander].sort());
  });
});
