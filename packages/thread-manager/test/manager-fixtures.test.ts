import { existsSync } from 'node:fs';
import { initStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';
import {
  type FixtureManifest,
  type FixtureName,
  installFixtureHome,
  type ManifestThread,
  removeTempDir,
} from '@skein/test-support';
import { LocalThreadStore, type ThreadId } from '@skein/thread-store';
import {
  agentMessageItem,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { isUserMessageItem, ThreadManager } from '../src/index.js';
import { afterResults, recordEvents } from './helpers.js';
import { rolloutFiles } from './local-home.js';

interface FixtureHarness {
  home: string;
  manifest: FixtureManifest;
  manager: ThreadManager;
  stateDb: StateDb;
}

let open: FixtureHarness | undefined;

afterEach(async () => {
  if (open === undefined) return;
  await open.manager.shutdownAll(5_000);
  await open.stateDb.close();
  removeTempDir(open.home);
  open = undefined;
});

async function openFixture(name: FixtureName): Promise<FixtureHarness> {
  const { home, manifest } = installFixtureHome(name);
  const provider = String(manifest.modelProvider);
  const stateDb = await initStateDb({ codexHome: home, defaultProvider: provider });
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: provider, warn: () => {} },
    stateDb,
  );
  const manager = new ThreadManager({ store, idleUnloadDelayMs: 0 });
  open = { home, manifest, manager, stateDb };
  return open;
}

function role(manifest: FixtureManifest, name: string): ManifestThread {
  const key = (manifest.roles as Record<string, string>)[name];
  const thread = manifest.threads.find((candidate) => candidate.key === key);
  if (thread === undefined) throw new Error(`fixture has no ${name} thread`);
  return thread;
}

function userTexts(items: { type: string; payload: unknown }[]): string[] {
  return items
    .filter((item) => isUserMessageItem(item as never))
    .map((item) => (item.payload as { message?: string }).message ?? '');
}

describe('a real Codex 0.131 home (legacy rollouts)', () => {
  it('resumes a Codex thread, appends a turn, and resumes it again', async () => {
    const { manager, manifest } = await openFixture('codex-0.131');
    const multi = role(manifest, 'multiTurn');
    const id = multi.id as ThreadId;
    const events = recordEvents(manager);

    const resumed = await manager.resumeThread(id, { connectionId: 'c' });
    expect(events).toEqual([['statusChanged', id, 'idle']]);
    expect(userTexts(resumed.history)).toEqual(multi.userMessages);
    expect(resumed.stored?.name ?? null).toBe(multi.name);

    await resumed.thread.recordItems([
      turnStartedItem('skein-turn', 1_795_000_000),
      userMessageItem('one more from Skein'),
      agentMessageItem('sure'),
      turnCompleteItem('skein-turn', 'sure', 1_795_000_001),
    ]);
    await resumed.thread.shutdown();
    const again = await manager.resumeThread(id);
    expect(userTexts(again.history)).toEqual([...multi.userMessages, 'one more from Skein']);
    expect(again.history.slice(0, resumed.history.length)).toEqual(resumed.history);
  });

  it('forks a Codex thread through its first turn', async () => {
    const { manager, manifest } = await openFixture('codex-0.131');
    const source = role(manifest, 'forkSource');
    const firstTurn = source.turnIds[0];
    if (firstTurn === undefined) throw new Error('fork source has no turns');
    const fork = await manager.forkThread(source.id as ThreadId, { lastTurnId: firstTurn });
    expect(fork.thread.forkedFromId).toBe(source.id);
    expect(userTexts(fork.history)).toEqual(source.userMessages.slice(0, 1));
    expect(fork.thread.name).toBe(source.name);
    const stored = await manager.store.readThread({ threadId: fork.thread.threadId });
    expect(stored.preview).toBe(source.userMessages[0]);
  });

  it('archives and unarchives the sub-agent tree the backfill imported', async () => {
    const { manager, manifest, home } = await openFixture('codex-0.131');
    const parent = role(manifest, 'parent');
    const child = role(manifest, 'child');
    expect(child.parentThreadId).toBe(parent.id);
    const events = recordEvents(manager);
    const activeBefore = rolloutFiles(home, 'sessions').length;

    expect(await manager.archiveThread(parent.id as ThreadId)).toEqual({
      archivedThreadIds: [parent.id, child.id],
    });
    expect(rolloutFiles(home, 'sessions')).toHaveLength(activeBefore - 2);
    const restored = await manager.unarchiveThread(parent.id as ThreadId);
    expect(restored.unarchivedThreadIds).toEqual([parent.id, child.id]);
    expect(restored.thread.rolloutPath !== null && existsSync(restored.thread.rolloutPath)).toBe(
      true,
    );
    await afterResults();
    expect(events).toEqual([
      ['archived', parent.id],
      ['archived', child.id],
      ['unarchived', parent.id],
      ['unarchived', child.id],
    ]);
  });
});

describe('a real Codex 0.169 home (paginated rollouts)', () => {
  it('reads, renames and cascades over Codex threads without loading them', async () => {
    const { manager, manifest } = await openFixture('codex-0.169');
    const parent = role(manifest, 'parent');
    const child = role(manifest, 'child');
    const view = await manager.readThread(parent.id as ThreadId);
    expect(view.loaded).toBeNull();
    expect(view.status).toEqual({ type: 'notLoaded' });
    expect(view.stored?.threadId).toBe(parent.id);

    await manager.setThreadName(parent.id as ThreadId, 'Renamed by Skein');
    expect((await manager.readThread(parent.id as ThreadId)).stored?.name).toBe('Renamed by Skein');
    expect(await manager.deleteThread(parent.id as ThreadId)).toEqual({
      deletedThreadIds: [child.id, parent.id],
    });
    expect(manager.listLoadedThreadIds()).toEqual([]);
  });
});
