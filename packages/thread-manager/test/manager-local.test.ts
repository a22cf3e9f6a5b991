import { existsSync, readFileSync } from 'node:fs';
import {
  defaultThreadMetadata,
  getThread,
  insertSpawnEdge,
  listDescendantThreads,
  newThreadId,
  upsertThread,
} from '@skein/state';
import type { RolloutItem } from '@skein/thread-store';
import {
  agentMessageItem,
  assistantResponseItem,
  tokenCountItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { isThreadManagerError } from '../src/index.js';
import { afterResults, nextEvent } from './helpers.js';
import { type LocalHarness, openLocalHarness, rolloutFiles } from './local-home.js';

let harness: LocalHarness | undefined;

async function open(delayMs = 0): Promise<LocalHarness> {
  harness = await openLocalHarness({ idleUnloadDelayMs: delayMs });
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A fixed-time turn, so the same call builds the same items. */
function turn(cwd: string, turnId: string, text: string): RolloutItem[] {
  return [
    turnStartedItem(turnId, 1_795_000_000),
    turnContextItem(cwd, 'gpt-test', turnId),
    userMessageItem(text),
    agentMessageItem(`re: ${text}`),
    assistantResponseItem(`re: ${text}`),
    tokenCountItem(100),
    turnCompleteItem(turnId, `re: ${text}`, 1_795_000_001),
  ];
}

async function expectError(promise: Promise<unknown>, code: string, message: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isThreadManagerError(error), String(error)).toBe(true);
  expect({ code: (error as { code: string }).code, message: (error as Error).message }).toEqual({
    code,
    message,
  });
}

describe('start → record → shutdown → resume', () => {
  it('writes nothing until history exists, then resumes the same history', async () => {
    const { manager, cwd, events, stateDb } = await open();
    const thread = await manager.startThread({ cwd, connectionId: 'c' });
    const path = thread.rolloutPath;
    expect(path).toMatch(/sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-.*\.jsonl$/);
    expect(path === null ? true : existsSync(path)).toBe(false);

    await thread.recordItems(turn(cwd, 'turn-1', 'hello world'));
    await thread.flush();
    expect(path !== null && existsSync(path)).toBe(true);
    const before = await thread.loadHistory();
    expect(before[0]?.type).toBe('session_meta');
    expect(before.slice(1)).toEqual(turn(cwd, 'turn-1', 'hello world'));

    const closed = nextEvent(manager, 'closed', thread.threadId);
    await thread.shutdown();
    await closed;
    expect(manager.isLoaded(thread.threadId)).toBe(false);
    await afterResults();
    events.length = 0;

    const resumed = await manager.resumeThread(thread.threadId, { connectionId: 'c' });
    // Resume of a previously unknown thread announces idle before returning.
    expect(events).toEqual([['statusChanged', thread.threadId, 'idle']]);
    expect(resumed.alreadyLoaded).toBe(false);
    expect(resumed.history).toEqual(before);
    expect(resumed.stored?.preview).toBe('hello world');
    // The metadata sync reached the state DB through the store (tokens, preview, cwd).
    const row = await getThread(stateDb.ctx, thread.threadId);
    expect({ tokens: row?.tokensUsed, preview: row?.preview, cwd: row?.cwd }).toEqual({
      tokens: 100,
      preview: 'hello world',
      cwd,
    });
    expect(resumed.thread.hasUserMessage).toBe(true);

    // A second resume returns the loaded thread without a second runtime or event.
    const again = await manager.resumeThread(thread.threadId, { connectionId: 'd' });
    expect(again.thread).toBe(resumed.thread);
    expect(again.alreadyLoaded).toBe(true);
    expect(manager.subscribersOf(thread.threadId).sort()).toEqual(['c', 'd']);

    // Appends after resume go to the same file.
    await resumed.thread.recordItems(turn(cwd, 'turn-2', 'second'));
    await resumed.thread.flush();
    const after = await resumed.thread.loadHistory();
    expect(after).toEqual([...before, ...turn(cwd, 'turn-2', 'second')]);
  });
});

describe('concurrency around load and unload', () => {
  it('refuses resume while the thread is closing, and shares one runtime between racing resumes', async () => {
    const { manager, cwd, events } = await open();
    const thread = await manager.startThread({ cwd });
    const id = thread.threadId;
    await thread.recordItems(turn(cwd, 't1', 'race me'));
    const unloading = manager.unloadThread(id);
    await expectError(
      manager.resumeThread(id),
      'ThreadClosing',
      `thread ${id} is closing; retry thread/resume after the thread is closed`,
    );
    expect(() => manager.subscribe(id, 'late')).toThrow(
      `thread ${id} is closing; retry after the thread is closed`,
    );
    expect(await unloading).toBe(true);
    await afterResults();
    events.length = 0;

    const [first, second] = await Promise.all([
      manager.resumeThread(id, { connectionId: 'a' }),
      manager.resumeThread(id, { connectionId: 'b' }),
    ]);
    expect(second.thread).toBe(first.thread);
    expect([first.alreadyLoaded, second.alreadyLoaded].sort()).toEqual([false, true]);
    expect(manager.subscribersOf(id).sort()).toEqual(['a', 'b']);
    expect(events).toEqual([['statusChanged', id, 'idle']]);
  });
});

describe('resume of a loaded thread with other settings', () => {
  it('reloads an idle, unsubscribed thread with them and keeps a subscribed one', async () => {
    const { manager, cwd, events } = await open();
    const thread = await manager.startThread({ cwd });
    const id = thread.threadId;
    await thread.recordItems(turn(cwd, 't1', 'settings'));
    await afterResults();
    events.length = 0;
    const otherCwd = `${cwd}/sub`;
    const reloaded = await manager.resumeThread(id, { cwd: otherCwd, connectionId: 'a' });
    expect(reloaded.alreadyLoaded).toBe(false);
    expect(reloaded.thread).not.toBe(thread);
    expect(reloaded.thread.cwd).toBe(otherCwd);
    expect(events).toEqual([
      ['statusChanged', id, 'notLoaded'],
      ['statusChanged', id, 'idle'],
    ]);
    // Subscribed now: other settings are ignored.
    const same = await manager.resumeThread(id, { cwd, connectionId: 'b' });
    expect(same.thread).toBe(reloaded.thread);
    expect(same.alreadyLoaded).toBe(true);
  });
});

describe('deferred persistence (spec §4) on a never-used thread', () => {
  it('answers reads, resume, fork and turns as Codex does', async () => {
    const { manager, cwd } = await open();
    const thread = await manager.startThread({ cwd });
    const id = thread.threadId;

    const view = await manager.readThread(id);
    expect(view.stored).toBeNull();
    expect(view.loaded).toBe(thread);
    expect(view.status).toEqual({ type: 'idle' });

    await expectError(
      manager.readThread(id, { includeHistory: true }),
      'NotMaterialized',
      `thread ${id} is not materialized yet; includeTurns is unavailable before first user message`,
    );
    await expectError(
      manager.readThread(id, { includeHistory: true, historyPurpose: 'thread/turns/list' }),
      'NotMaterialized',
      `thread ${id} is not materialized yet; thread/turns/list is unavailable before first user message`,
    );
    await expectError(
      manager.resumeThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.forkThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    expect(thread.rolloutPath !== null && existsSync(thread.rolloutPath)).toBe(false);
  });

  it('a paginated one: written bare by a turns read, then no turns to list or resume, a fork all the same (Codex 0.169)', async () => {
    harness = await openLocalHarness({ idleUnloadDelayMs: 0 }, '0.169.0');
    const { manager, cwd } = harness;
    const pristine = await manager.startThread({ cwd, historyMode: 'paginated' });
    const id = pristine.threadId;
    await expectError(
      manager.readThread(id, { includeHistory: true, historyPurpose: 'thread/turns/list' }),
      'NotMaterialized',
      `thread ${id} is not materialized yet; thread/turns/list is unavailable before first user message`,
    );
    expect(await pristine.isWritten()).toBe(false);
    // Asked for its turns by thread/read, Codex writes it out bare: no turns to list from then.
    for (const purpose of ['includeTurns', 'thread/turns/list'] as const) {
      await expectError(
        manager.readThread(id, { includeHistory: true, historyPurpose: purpose }),
        'Unsupported',
        'list_turns is not supported yet',
      );
    }
    expect(await pristine.isWritten()).toBe(true);
    await expectError(manager.resumeThread(id), 'Unsupported', 'list_turns is not supported yet');
    const fork = await manager.forkThread(id);
    expect(fork.thread.forkedFromId).toBe(id);
    expect(fork.thread.historyMode).toBe('paginated');
    expect(fork.history).toEqual([]);
    expect((await fork.thread.readStored())?.forkedFromId).toBe(id);
    expect(manager.listLoadedThreadIds()).toEqual([id, fork.thread.threadId].sort());
    // The fork references nothing of its source, which can go.
    await manager.deleteThread(id);
  });

  it('a stored one: empty turns; a paginated row without its file: missing lineage', async () => {
    harness = await openLocalHarness({ idleUnloadDelayMs: 0 }, '0.169.0');
    const { manager, cwd, stateDb, home } = harness;
    // Named before any message: Codex keeps it (row and rollout), with no turns yet.
    const named = await manager.startThread({ cwd, historyMode: 'paginated', connectionId: 'c' });
    await manager.setThreadName(named.threadId, 'Before the first turn');
    manager.unsubscribe(named.threadId, 'c');
    await afterResults();
    if (manager.isLoaded(named.threadId)) await nextEvent(manager, 'closed', named.threadId);
    const view = await manager.readThread(named.threadId, {
      includeHistory: true,
      historyPurpose: 'thread/turns/list',
    });
    expect(view.stored?.historyMode).toBe('paginated');
    expect(view.history?.filter((item) => item.type !== 'session_meta')).toEqual([]);
    // So does a legacy one.
    const legacy = await manager.startThread({ cwd, historyMode: 'legacy', connectionId: 'c' });
    await manager.setThreadName(legacy.threadId, 'Legacy, before the first turn');
    manager.unsubscribe(legacy.threadId, 'c');
    await afterResults();
    if (manager.isLoaded(legacy.threadId)) await nextEvent(manager, 'closed', legacy.threadId);
    const legacyView = await manager.readThread(legacy.threadId, {
      includeHistory: true,
      historyPurpose: 'thread/turns/list',
    });
    expect(legacyView.stored?.historyMode).toBe('legacy');
    expect(legacyView.history?.filter((item) => item.type !== 'session_meta')).toEqual([]);

    // A row Codex wrote for a paginated thread whose rollout does not exist.
    const orphan = newThreadId(Date.now());
    await upsertThread(stateDb.ctx, {
      ...defaultThreadMetadata(
        orphan,
        `${home}/sessions/2026/01/01/rollout-2026-01-01T00-00-00-${orphan}.jsonl`,
        Date.now(),
        'vscode',
        'test-provider',
      ),
      cwd,
      historyMode: 'paginated',
    });
    const lineage = `invalid paginated history lineage for ${orphan}: missing source rollout`;
    await expectError(
      manager.readThread(orphan, { includeHistory: true }),
      'InvalidRequest',
      lineage,
    );
    await expectError(manager.forkThread(orphan), 'InvalidRequest', lineage);
    await expectError(
      manager.resumeThread(orphan),
      'NoRolloutFound',
      `no rollout found for thread id ${orphan}`,
    );
  });

  it("a fork's copied turns publish no read receipt (its source's do)", async () => {
    harness = await openLocalHarness({ idleUnloadDelayMs: 0 }, '0.169.0');
    const { manager, cwd } = harness;
    const source = await manager.startThread({ cwd, historyMode: 'legacy' });
    await source.recordItems(turn(cwd, 't1', 'one'));
    await source.flush();
    const fork = await manager.forkThread(source.threadId);
    await fork.thread.flush();
    const states = await manager.readStates([source.threadId, fork.thread.threadId]);
    expect(states.get(source.threadId)?.revision).not.toBe(`initial:${source.threadId}`);
    expect(states.get(fork.thread.threadId)).toEqual({
      firstUnread: null,
      revision: `initial:${fork.thread.threadId}`,
    });
  });

  it('vanishes when unloaded', async () => {
    const { manager, cwd, events, home } = await open();
    const thread = await manager.startThread({ cwd, connectionId: 'c' });
    const id = thread.threadId;
    await afterResults();
    events.length = 0;
    const closed = nextEvent(manager, 'closed', id);
    expect(manager.unsubscribe(id, 'c')).toBe('unsubscribed');
    await closed;
    expect(events).toEqual([
      ['statusChanged', id, 'notLoaded'],
      ['closed', id],
    ]);
    expect(manager.listLoadedThreads()).toEqual({ data: [], nextCursor: null });
    await expectError(manager.readThread(id), 'ThreadNotLoaded', `thread not loaded: ${id}`);
    await expectError(
      manager.resumeThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    expect(rolloutFiles(home, 'sessions')).toEqual([]);
  });

  it('name set materializes it without making it listable', async () => {
    const { manager, cwd, store, events } = await open();
    const thread = await manager.startThread({ cwd });
    await manager.setThreadName(thread.threadId, '  Named  ');
    expect(thread.rolloutPath !== null && existsSync(thread.rolloutPath)).toBe(true);
    const page = await store.listThreads({ pageSize: 10, modelProviders: [] });
    expect(page.items.map((item) => item.threadId)).toEqual([]);
    const view = await manager.readThread(thread.threadId);
    expect(view.stored?.name).toBe('Named');
    await afterResults();
    expect(events.at(-1)).toEqual(['nameUpdated', thread.threadId, 'Named']);
  });

  it('archive materializes then archives; delete unloads and succeeds', async () => {
    const { manager, cwd, events, home } = await open();
    const archived = await manager.startThread({ cwd });
    const deleted = await manager.startThread({ cwd });
    await afterResults();
    events.length = 0;

    const archiving = manager.archiveThread(archived.threadId);
    const archiveResult = await archiving;
    expect(events).toEqual([['statusChanged', archived.threadId, 'notLoaded']]);
    await afterResults();
    expect(events.at(-1)).toEqual(['archived', archived.threadId]);
    expect(archiveResult).toEqual({ archivedThreadIds: [archived.threadId] });
    expect(rolloutFiles(home, 'archived_sessions')).toHaveLength(1);
    await expectError(
      manager.resumeThread(archived.threadId),
      'ThreadArchived',
      `session ${archived.threadId} is archived. Run \`codex unarchive ${archived.threadId}\` to unarchive it first.`,
    );

    events.length = 0;
    expect(await manager.deleteThread(deleted.threadId)).toEqual({
      deletedThreadIds: [deleted.threadId],
    });
    expect(events).toEqual([['statusChanged', deleted.threadId, 'notLoaded']]);
    await afterResults();
    expect(events.at(-1)).toEqual(['deleted', deleted.threadId]);
  });

  it('refuses what an ephemeral thread cannot do', async () => {
    const { manager, cwd, home } = await open();
    const thread = await manager.startThread({ cwd, ephemeral: true });
    const id = thread.threadId;
    await thread.recordItems(turn(cwd, 't', 'in memory only'));
    await expectError(
      manager.readThread(id, { includeHistory: true }),
      'EphemeralThread',
      'ephemeral threads do not support includeTurns',
    );
    await expectError(
      manager.readThread(id, { includeHistory: true, historyPurpose: 'thread/turns/list' }),
      'EphemeralThread',
      'ephemeral threads do not support thread/turns/list',
    );
    await expectError(
      manager.setThreadName(id, 'eph'),
      'EphemeralThread',
      `ephemeral thread does not support metadata updates: ${id}`,
    );
    await expectError(
      manager.archiveThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.forkThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.deleteThread(id),
      'ThreadNotPersisted',
      `thread is not persisted and cannot be deleted: ${id}`,
    );
    expect((await manager.readThread(id)).loaded?.ephemeral).toBe(true);
    expect(rolloutFiles(home, 'sessions')).toEqual([]);
  });

  it('answers unknown ids', async () => {
    const { manager } = await open();
    const id = newThreadId();
    await expectError(manager.readThread(id), 'ThreadNotLoaded', `thread not loaded: ${id}`);
    await expectError(
      manager.resumeThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.archiveThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.deleteThread(id),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    await expectError(
      manager.unarchiveThread(id),
      'NoArchivedRolloutFound',
      `no archived rollout found for thread id ${id}`,
    );
    await expectError(
      manager.setThreadName(id, 'x'),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
    expect(manager.unsubscribe(id, 'c')).toBe('notLoaded');
  });
});

describe('cascades over the spawn tree P → C → G', () => {
  async function tree(h: LocalHarness) {
    const { manager, cwd } = h;
    const parent = await manager.startThread({ cwd });
    await parent.recordItems(turn(cwd, 'p1', 'parent task'));
    const child = await manager.spawnSubagent(parent.threadId, { agentNickname: 'child' });
    await child.recordItems(turn(cwd, 'c1', 'child task'));
    const grandchild = await manager.spawnSubagent(child.threadId, { agentRole: 'worker' });
    await grandchild.recordItems(turn(cwd, 'g1', 'grandchild task'));
    for (const thread of [parent, child, grandchild]) await thread.flush();
    return { P: parent.threadId, C: child.threadId, G: grandchild.threadId };
  }

  it('archives P, G, C; unarchives P, C, G; deletes G, C, P', async () => {
    const h = await open();
    const { manager, events, home, stateDb } = h;
    const { P, C, G } = await tree(h);
    // Real spawn edges, recorded by the store from the thread_spawn sources.
    expect((await listDescendantThreads(stateDb.ctx, P)).map((edge) => edge.childId)).toEqual([
      C,
      G,
    ]);
    // Unload P and G; C stays loaded (it is shut down by the cascade).
    await manager.unloadThread(P);
    await manager.unloadThread(G);
    await afterResults();
    events.length = 0;

    expect(await manager.archiveThread(P)).toEqual({ archivedThreadIds: [P, G, C] });
    expect(events).toEqual([['statusChanged', C, 'notLoaded']]);
    await afterResults();
    expect(events.slice(1)).toEqual([
      ['archived', P],
      ['archived', G],
      ['archived', C],
    ]);
    expect(rolloutFiles(home, 'sessions')).toEqual([]);
    expect(rolloutFiles(home, 'archived_sessions')).toHaveLength(3);
    expect(manager.listLoadedThreadIds()).toEqual([]);

    events.length = 0;
    const unarchived = await manager.unarchiveThread(P);
    expect(unarchived.unarchivedThreadIds).toEqual([P, C, G]);
    expect(unarchived.thread.threadId).toBe(P);
    expect(unarchived.thread.rolloutPath).toContain('/sessions/');
    await afterResults();
    expect(events).toEqual([
      ['unarchived', P],
      ['unarchived', C],
      ['unarchived', G],
    ]);
    expect(rolloutFiles(home, 'sessions')).toHaveLength(3);

    // Load C again: delete shuts loaded members down first.
    await manager.resumeThread(C);
    events.length = 0;
    expect(await manager.deleteThread(P)).toEqual({ deletedThreadIds: [G, C, P] });
    expect(events).toEqual([['statusChanged', C, 'notLoaded']]);
    await afterResults();
    expect(events.slice(1)).toEqual([
      ['deleted', G],
      ['deleted', C],
      ['deleted', P],
    ]);
    expect(rolloutFiles(home, 'sessions')).toEqual([]);
    await expectError(
      manager.deleteThread(P),
      'NoRolloutFound',
      `no rollout found for thread id ${P}`,
    );
    await expectError(manager.readThread(C), 'ThreadNotLoaded', `thread not loaded: ${C}`);
  });

  it('archiving a subtree root leaves its ancestors alone; a dangling edge is skipped', async () => {
    const h = await open();
    const { manager, events, stateDb, cwd } = h;
    const { P, C, G } = await tree(h);
    await afterResults();
    events.length = 0;
    expect(await manager.archiveThread(C)).toEqual({ archivedThreadIds: [C, G] });
    expect(manager.listLoadedThreadIds()).toEqual([P]);

    const lonely = await manager.startThread({ cwd });
    await lonely.recordItems(turn(cwd, 'q1', 'with a ghost child'));
    await lonely.flush();
    await insertSpawnEdge(stateDb.ctx, lonely.threadId, newThreadId());
    expect(await manager.archiveThread(lonely.threadId)).toEqual({
      archivedThreadIds: [lonely.threadId],
    });
  });
});

describe('fork', () => {
  it('writes a durable fork at once, with a new id, forkedFromId and the name', async () => {
    const { manager, cwd, store } = await open();
    const source = await manager.startThread({ cwd });
    await source.recordItems([...turn(cwd, 't1', 'fork source'), ...turn(cwd, 't2', 'more')]);
    await manager.setThreadName(source.threadId, 'Source name');
    await manager.updateThreadGitInfo(source.threadId, { branch: 'src-branch' });

    const fork = await manager.forkThread(source.threadId, { lastTurnId: 't1' });
    expect(fork.thread.threadId).not.toBe(source.threadId);
    expect(fork.thread.forkedFromId).toBe(source.threadId);
    expect(fork.thread.rolloutPath !== null && existsSync(fork.thread.rolloutPath)).toBe(true);
    const stored = await store.readThread({ threadId: fork.thread.threadId });
    expect({
      forkedFromId: stored.forkedFromId,
      name: stored.name,
      preview: stored.preview,
      gitBranch: stored.gitInfo?.branch ?? null,
    }).toEqual({
      forkedFromId: source.threadId,
      name: 'Source name',
      preview: 'fork source',
      gitBranch: null,
    });
    const history = (await fork.thread.loadHistory()).filter(
      (item) => item.type !== 'session_meta',
    );
    expect(history).toEqual(turn(cwd, 't1', 'fork source'));
    // The fork is listed at once.
    const page = await store.listThreads({ pageSize: 10, modelProviders: [] });
    expect(page.items.map((item) => item.threadId).sort()).toEqual(
      [source.threadId, fork.thread.threadId].sort(),
    );
    // The new rollout's first line is its own session meta naming the source.
    const firstLine = JSON.parse(
      readFileSync(fork.thread.rolloutPath ?? '', 'utf8').split('\n')[0] ?? '{}',
    );
    expect(firstLine.payload.id).toBe(fork.thread.threadId);
    expect(firstLine.payload.forked_from_id).toBe(source.threadId);
  });
});

describe('originator of a resumed thread', () => {
  it("keeps the creator's, which a fork then inherits (another client resuming it is not its creator)", async () => {
    harness = await openLocalHarness({ idleUnloadDelayMs: 0, originator: 'resuming_client' });
    const { manager, cwd } = harness;
    const thread = await manager.startThread({ cwd, originator: 'creating_client' });
    await thread.recordItems(turn(cwd, 't1', 'made by the creator'));
    await manager.unloadThread(thread.threadId);
    const resumed = await manager.resumeThread(thread.threadId, {});
    expect(resumed.alreadyLoaded).toBe(false);
    expect(resumed.thread.originator).toBe('creating_client');
  });
});

describe('session of a cold-resumed thread (as 0.169 answers it)', () => {
  it("is the one its session meta names (a sub-agent's root), else its own", async () => {
    const { manager, cwd } = await open();
    const parent = await manager.startThread({ cwd });
    await parent.recordItems(turn(cwd, 't1', 'parent asks'));
    const child = await manager.spawnSubagent(parent.threadId, { agentNickname: 'scout' });
    await child.recordItems(turn(cwd, 't2', 'child works'));
    expect(child.sessionId).toBe(parent.threadId);
    for (const thread of [child, parent]) await manager.unloadThread(thread.threadId);
    const resumedChild = await manager.resumeThread(child.threadId, {});
    expect(resumedChild.thread.sessionId).toBe(parent.threadId);
    const resumedParent = await manager.resumeThread(parent.threadId, {});
    expect(resumedParent.thread.sessionId).toBe(parent.threadId);
  });
});

describe('metadata routing on the local store', () => {
  it('renames a cold thread without loading it, archived threads are refused', async () => {
    const { manager, cwd, home } = await open();
    const thread = await manager.startThread({ cwd });
    await thread.recordItems(turn(cwd, 't', 'cold one'));
    await manager.unloadThread(thread.threadId);

    await manager.setThreadName(thread.threadId, 'Cold name');
    expect(manager.listLoadedThreadIds()).toEqual([]);
    const index = readFileSync(`${home}/session_index.jsonl`, 'utf8');
    expect(index).toContain('"thread_name":"Cold name"');
    expect((await manager.readThread(thread.threadId)).stored?.name).toBe('Cold name');

    await manager.archiveThread(thread.threadId);
    await expectError(
      manager.setThreadName(thread.threadId, 'Archived name'),
      'NoRolloutFound',
      `no rollout found for thread id ${thread.threadId}`,
    );
    // Git metadata is allowed on archived threads.
    const stored = await manager.updateThreadGitInfo(thread.threadId, { sha: 'abc123' });
    expect(stored.gitInfo).toEqual({ commitHash: 'abc123', branch: null, repositoryUrl: null });
  });
});
