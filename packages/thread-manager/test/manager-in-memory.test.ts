import { newThreadId } from '@skein/state';
import { InMemoryThreadStore, type ThreadId } from '@skein/thread-store';
import {
  agentMessageItem,
  tokenCountItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { describe, expect, it } from 'vitest';
import {
  INTERRUPTED_TURN_MARKER,
  isThreadManagerError,
  ThreadManager,
  type ThreadManagerOptions,
} from '../src/index.js';
import { afterResults, nextEvent, recordEvents } from './helpers.js';

const CWD = '/tmp/skein-manager-test';

function makeManager(options: Partial<ThreadManagerOptions> = {}) {
  const store = new InMemoryThreadStore();
  const manager = new ThreadManager({
    store,
    idleUnloadDelayMs: 0,
    defaultModelProvider: 'test-provider',
    ...options,
  });
  return { store, manager, events: recordEvents(manager) };
}

function turn(turnId: string, text: string) {
  return [
    turnStartedItem(turnId),
    turnContextItem(CWD, 'gpt-test', turnId),
    userMessageItem(text),
    agentMessageItem(`re: ${text}`),
    tokenCountItem(42),
    turnCompleteItem(turnId, `re: ${text}`),
  ];
}

async function expectError(promise: Promise<unknown>, code: string, message: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isThreadManagerError(error)).toBe(true);
  expect({ code: (error as { code: string }).code, message: (error as Error).message }).toEqual({
    code,
    message,
  });
}

describe('start', () => {
  it('registers silently and emits threadStarted only after the result', async () => {
    const { manager, events } = makeManager();
    const thread = await manager.startThread({ cwd: CWD, connectionId: 'c1' });
    expect(events).toEqual([]);
    await afterResults();
    expect(events).toEqual([['threadStarted', thread.threadId]]);
    expect(thread.status).toEqual({ type: 'idle' });
    expect(manager.listLoadedThreadIds()).toEqual([thread.threadId]);
    expect(manager.subscribersOf(thread.threadId)).toEqual(['c1']);
    expect(thread.forkedFromId).toBeNull();
    expect(thread.sessionId).toBe(thread.threadId);
  });

  it('keeps an ephemeral thread out of the store entirely', async () => {
    const { manager, store } = makeManager();
    const thread = await manager.startThread({ cwd: CWD, ephemeral: true });
    await thread.recordItems(turn('t1', 'hello'));
    expect(thread.rolloutPath).toBeNull();
    expect(thread.ephemeralHistory()).toHaveLength(6);
    expect(store.callLog()).toEqual([]);
  });

  it('refuses an id that is already loaded', async () => {
    const { manager } = makeManager();
    const thread = await manager.startThread({ cwd: CWD });
    await expectError(
      manager.startThread({ cwd: CWD, threadId: thread.threadId }),
      'ThreadAlreadyRunning',
      `thread ${thread.threadId} is already running`,
    );
  });
});

describe('metadata routing (one entrypoint)', () => {
  it('sends a loaded thread through its LiveThread and a cold one straight to the store', async () => {
    const { manager, store, events } = makeManager();
    const loaded = await manager.startThread({ cwd: CWD, connectionId: 'c1' });
    const mark = store.callLog().length;
    await manager.setThreadName(loaded.threadId, '  Loaded name  ');
    const loadedCalls = store.callLog().slice(mark);
    // LiveThread: materialize, flush the pending create facts, then the explicit patch.
    expect(loadedCalls.map((call) => call.method)).toEqual([
      'persistThread',
      'updateThreadMetadata',
      'updateThreadMetadata',
    ]);
    expect(loadedCalls[1]?.params).toMatchObject({
      threadId: loaded.threadId,
      patch: { modelProvider: 'test-provider', cwd: CWD },
    });
    expect(loadedCalls[2]?.params).toEqual({
      threadId: loaded.threadId,
      patch: { name: 'Loaded name' },
      includeArchived: false,
    });
    expect(loaded.name).toBe('Loaded name');

    // Make a cold thread: record a turn, then unload it.
    await loaded.recordItems(turn('t1', 'first'));
    const closed = nextEvent(manager, 'closed', loaded.threadId);
    expect(manager.unsubscribe(loaded.threadId, 'c1')).toBe('unsubscribed');
    await closed;
    expect(manager.isLoaded(loaded.threadId)).toBe(false);

    const coldMark = store.callLog().length;
    const stored = await manager.updateThreadGitInfo(loaded.threadId, { branch: ' feature ' });
    const coldCalls = store.callLog().slice(coldMark);
    expect(coldCalls.map((call) => call.method)).toEqual(['updateThreadMetadata']);
    expect(coldCalls[0]?.params).toEqual({
      threadId: loaded.threadId,
      patch: { gitInfo: { branch: 'feature' } },
      includeArchived: true,
    });
    expect(stored.gitInfo).toEqual({ commitHash: null, branch: 'feature', repositoryUrl: null });
    // The cold path never loads the thread.
    expect(manager.listLoadedThreadIds()).toEqual([]);
    await afterResults();
    expect(events.filter(([name]) => name === 'nameUpdated')).toEqual([
      ['nameUpdated', loaded.threadId, 'Loaded name'],
    ]);
  });

  it('refuses metadata updates of a loaded ephemeral thread', async () => {
    const { manager, store } = makeManager();
    const thread = await manager.startThread({ cwd: CWD, ephemeral: true });
    const message = `ephemeral thread does not support metadata updates: ${thread.threadId}`;
    await expectError(manager.setThreadName(thread.threadId, 'x'), 'EphemeralThread', message);
    await expectError(
      manager.updateThreadGitInfo(thread.threadId, { branch: 'b' }),
      'EphemeralThread',
      message,
    );
    expect(store.callLog()).toEqual([]);
  });

  it('validates names and git patches with the Codex texts', async () => {
    const { manager } = makeManager();
    const thread = await manager.startThread({ cwd: CWD });
    await expectError(
      manager.setThreadName(thread.threadId, '   '),
      'InvalidRequest',
      'thread name must not be empty',
    );
    await expectError(
      manager.updateThreadGitInfo(thread.threadId, { branch: '' }),
      'InvalidRequest',
      'gitInfo.branch must not be empty',
    );
    await expectError(
      manager.updateThreadGitInfo(thread.threadId, {}),
      'InvalidRequest',
      'gitInfo must include at least one field',
    );
    await expectError(
      manager.updateThreadGitInfo(thread.threadId, null),
      'InvalidRequest',
      'thread metadata update must include at least one field',
    );
  });

  it('answers an unknown cold thread with no rollout found', async () => {
    const { manager } = makeManager();
    const id = newThreadId();
    await expectError(
      manager.setThreadName(id, 'x'),
      'NoRolloutFound',
      `no rollout found for thread id ${id}`,
    );
  });
});

describe('status', () => {
  it('follows turn events, pending requests and system errors', async () => {
    const { manager, events } = makeManager();
    const thread = await manager.startThread({ cwd: CWD });
    const id = thread.threadId;
    await afterResults();
    events.length = 0;
    await thread.recordItems([turnStartedItem('t1'), userMessageItem('hi')]);
    expect(thread.status).toEqual({ type: 'active', activeFlags: [] });
    const releaseApproval = manager.beginPermissionRequest(id);
    const releaseInput = manager.beginUserInputRequest(id);
    expect(thread.status).toEqual({
      type: 'active',
      activeFlags: ['waitingOnApproval', 'waitingOnUserInput'],
    });
    releaseApproval();
    releaseApproval();
    releaseInput();
    await thread.recordItems([turnCompleteItem('t1')]);
    manager.noteSystemError(id);
    manager.noteTurnStarted(id);
    manager.noteTurnEnded(id);
    // [] → [approval] → [approval, input] → [input] → [] → idle
    expect(events).toEqual([
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'idle'],
      ['statusChanged', id, 'systemError'],
      ['statusChanged', id, 'active'],
      ['statusChanged', id, 'idle'],
    ]);
    expect(manager.statusOf(newThreadId())).toEqual({ type: 'notLoaded' });
  });
});

describe('subscriptions and idle unload', () => {
  it('closes a thread when its last subscriber leaves (delay 0)', async () => {
    const { manager, events } = makeManager();
    const thread = await manager.startThread({ cwd: CWD, connectionId: 'a' });
    const id = thread.threadId;
    expect(manager.subscribe(id, 'b')).toBe(true);
    await afterResults();
    events.length = 0;
    expect(manager.unsubscribe(id, 'a')).toBe('unsubscribed');
    expect(manager.unsubscribe(id, 'a')).toBe('notSubscribed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(manager.isLoaded(id)).toBe(true);
    const closed = nextEvent(manager, 'closed', id);
    // Closing a connection is unsubscribing it.
    expect(manager.removeConnection('b')).toEqual([id]);
    await closed;
    expect(events).toEqual([
      ['statusChanged', id, 'notLoaded'],
      ['closed', id],
    ]);
    expect(manager.listLoadedThreads({})).toEqual({ data: [], nextCursor: null });
    expect(manager.unsubscribe(id, 'a')).toBe('notLoaded');
  });

  it('waits for the idle delay, and a new subscriber cancels the unload', async () => {
    const { manager } = makeManager({ idleUnloadDelayMs: 150 });
    const thread = await manager.startThread({ cwd: CWD, connectionId: 'a' });
    const id = thread.threadId;
    const startedAt = Date.now();
    expect(manager.unsubscribe(id, 'a')).toBe('unsubscribed');
    await new Promise((resolve) => setTimeout(resolve, 60));
    manager.subscribe(id, 'b');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(manager.isLoaded(id)).toBe(true);
    const closed = nextEvent(manager, 'closed', id);
    manager.unsubscribe(id, 'b');
    await closed;
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(150 + 60 + 200);
    expect(manager.isLoaded(id)).toBe(false);
  });

  it('does not unload an active thread until its turn ends', async () => {
    const { manager } = makeManager();
    const thread = await manager.startThread({ cwd: CWD, connectionId: 'a' });
    await thread.recordItems([turnStartedItem('t1'), userMessageItem('long turn')]);
    manager.unsubscribe(thread.threadId, 'a');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(manager.isLoaded(thread.threadId)).toBe(true);
    const closed = nextEvent(manager, 'closed', thread.threadId);
    await thread.recordItems([turnCompleteItem('t1')]);
    await closed;
    expect(manager.isLoaded(thread.threadId)).toBe(false);
  });
});

describe('loaded list', () => {
  it('pages ascending ids and rejects bad cursors', async () => {
    const { manager } = makeManager();
    const ids: ThreadId[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await manager.startThread({ cwd: CWD })).threadId);
    ids.sort();
    expect(manager.listLoadedThreads({})).toEqual({ data: ids, nextCursor: null });
    expect(manager.listLoadedThreads({ limit: 1 })).toEqual({
      data: [ids[0]],
      nextCursor: ids[0],
    });
    expect(manager.listLoadedThreads({ limit: 0, cursor: ids[0] ?? null })).toEqual({
      data: [ids[1]],
      nextCursor: ids[1],
    });
    expect(manager.listLoadedThreads({ limit: 5, cursor: ids[1] ?? null })).toEqual({
      data: [ids[2]],
      nextCursor: null,
    });
    expect(() => manager.listLoadedThreads({ cursor: 'bad' })).toThrow('invalid cursor: bad');
  });
});

describe('fork', () => {
  it('copies the history with a new id, forkedFromId and the source name', async () => {
    const { manager, events } = makeManager();
    const source = await manager.startThread({ cwd: CWD });
    await source.recordItems([...turn('t1', 'one'), ...turn('t2', 'two')]);
    await manager.setThreadName(source.threadId, 'Source name');
    await afterResults();
    events.length = 0;

    const full = await manager.forkThread(source.threadId, { connectionId: 'c' });
    expect(full.thread.threadId).not.toBe(source.threadId);
    expect(full.thread.forkedFromId).toBe(source.threadId);
    expect(full.thread.sessionId).toBe(full.thread.threadId);
    expect(full.thread.name).toBe('Source name');
    expect(full.history.filter((item) => item.type === 'event_msg')).toHaveLength(10);
    expect(full.thread.hasUserMessage).toBe(true);

    const cut = await manager.forkThread(source.threadId, { lastTurnId: 't1' });
    expect(cut.history.map((item) => (item.payload as { type?: string }).type)).toEqual([
      'task_started',
      undefined,
      'user_message',
      'agent_message',
      'token_count',
      'task_complete',
    ]);
    await expectError(
      manager.forkThread(source.threadId, { lastTurnId: 'nope' }),
      'TurnNotFound',
      'turn not found: nope',
    );
    await afterResults();
    expect(events).toEqual([
      ['threadStarted', full.thread.threadId],
      ['threadStarted', cut.thread.threadId],
    ]);
  });

  it("runs on the model and effort it is given, not its source's, and records them", async () => {
    const { manager } = makeManager();
    const source = await manager.startThread({ cwd: CWD });
    await source.recordItems(turn('t1', 'one'));
    expect(source.model).toBe('gpt-test');

    const inherited = await manager.forkThread(source.threadId);
    expect(inherited.thread.model).toBe('gpt-test');

    const fork = await manager.forkThread(source.threadId, {
      model: 'configured-model',
      reasoningEffort: 'high',
    });
    expect(fork.thread.model).toBe('configured-model');
    expect(fork.thread.reasoningEffort).toBe('high');
    const stored = await fork.thread.readStored();
    expect(stored?.model).toBe('configured-model');
    expect(stored?.reasoningEffort).toBe('high');
  });

  it('closes a mid-turn source history like an interrupt', async () => {
    const { manager } = makeManager();
    const source = await manager.startThread({ cwd: CWD });
    await source.recordItems([...turn('t1', 'one'), turnStartedItem('t2'), userMessageItem('two')]);
    const fork = await manager.forkThread(source.threadId);
    expect(fork.history.slice(-2)).toEqual([
      {
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: INTERRUPTED_TURN_MARKER }],
        },
      },
      {
        type: 'event_msg',
        payload: { type: 'turn_aborted', turn_id: 't2', reason: 'interrupted' },
      },
    ]);
    const snapshot = await manager.forkThread(source.threadId, {
      snapshot: { kind: 'truncateBeforeNthUserMessage', n: 1 },
    });
    expect(snapshot.history).toHaveLength(6);
  });
});

describe('spawnSubagent', () => {
  it('creates thread_spawn children sharing the session, optionally from the parent history', async () => {
    const { manager, store } = makeManager();
    const parent = await manager.startThread({ cwd: CWD });
    await parent.recordItems([...turn('t1', 'one'), turnStartedItem('t2'), userMessageItem('two')]);
    const child = await manager.spawnSubagent(parent.threadId, {
      agentNickname: 'scout',
      forkHistory: true,
    });
    const grandchild = await manager.spawnSubagent(child.threadId, { agentRole: 'worker' });
    expect({
      parent: child.parentThreadId,
      session: child.sessionId,
      source: child.source,
      threadSource: child.threadSource,
    }).toEqual({
      parent: parent.threadId,
      session: parent.threadId,
      source: {
        subagent: {
          thread_spawn: {
            parent_thread_id: parent.threadId,
            depth: 1,
            agent_path: null,
            agent_nickname: 'scout',
            agent_role: null,
          },
        },
      },
      threadSource: 'subagent',
    });
    expect(grandchild.sessionId).toBe(parent.threadId);
    expect(grandchild.source).toMatchObject({ subagent: { thread_spawn: { depth: 2 } } });
    // The child starts from the parent's history, closed like an interrupt.
    const childHistory = (await child.loadHistory()).filter((item) => item.type !== 'session_meta');
    expect(childHistory.at(-1)).toEqual({
      type: 'event_msg',
      payload: { type: 'turn_aborted', turn_id: 't2', reason: 'interrupted' },
    });
    expect(await manager.listAgentSubtreeThreadIds(parent.threadId)).toEqual([
      parent.threadId,
      child.threadId,
      grandchild.threadId,
    ]);
    expect(store.createdThreads.get(child.threadId)?.parentThreadId).toBe(parent.threadId);
  });
});

describe('shutdownAll', () => {
  it('closes every loaded thread and reports them sorted', async () => {
    const { manager } = makeManager();
    const a = await manager.startThread({ cwd: CWD });
    const b = await manager.startThread({ cwd: CWD, ephemeral: true });
    const report = await manager.shutdownAll(5_000);
    expect(report).toEqual({
      completed: [a.threadId, b.threadId].sort(),
      submitFailed: [],
      timedOut: [],
    });
    expect(manager.listLoadedThreadIds()).toEqual([]);
  });
});
