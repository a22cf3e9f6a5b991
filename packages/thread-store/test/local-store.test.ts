import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsyncPolicy, HistoryProjector, initStateDb, readProjectableLines } from '@skein/rollout';
import {
  getThread,
  type HistoryDb,
  newThreadId,
  type StateDb,
  StateRuntime,
  type ThreadMetadata,
} from '@skein/state';
import { installFixtureHome, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryThreadStore,
  LiveThread,
  LocalThreadStore,
  SKEIN_CLI_VERSION,
  type ThreadId,
} from '../src/index.js';
import {
  agentMessageItem,
  createThreadParams,
  expectThreadStoreError,
  paginatedTurnItems,
  resumeThreadParams,
  tokenCountItem,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '../src/testing/index.js';
import { localHarness, noGit } from './local-harness.js';

type Harness = Awaited<ReturnType<typeof localHarness>>;
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup?.();
});

async function setup(withDb: boolean): Promise<Harness & { local: LocalThreadStore }> {
  const harness = await localHarness(withDb, '0.169.0');
  harnesses.push(harness);
  return { ...harness, local: harness.store as LocalThreadStore };
}

async function recorded(h: Harness & { local: LocalThreadStore }, text: string) {
  const params = createThreadParams(h.cwd);
  const live = await LiveThread.create(h.local, params, noGit);
  await live.appendItems([userMessageItem(text)]);
  await live.shutdown();
  const path = (await h.local.readThread({ threadId: params.threadId })).rolloutPath as string;
  return { threadId: params.threadId, path };
}

function row(db: StateDb, threadId: ThreadId): Promise<ThreadMetadata | undefined> {
  return getThread(db.ctx, threadId);
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every file under `dir` with its sha256, for byte-identity checks. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(path, createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

describe('LocalThreadStore live writer', () => {
  it("records the caller's cli_version (default: Skein's own) in the session meta and the row", async () => {
    const h = await setup(true);
    for (const cliVersion of ['0.169.0', undefined]) {
      const params = { ...createThreadParams(h.cwd), ...(cliVersion ? { cliVersion } : {}) };
      const live = await LiveThread.create(h.local, params, noGit);
      await live.appendItems([userMessageItem('which version')]);
      await live.shutdown();
      const thread = await h.local.readThread({ threadId: params.threadId });
      const expected = cliVersion ?? SKEIN_CLI_VERSION;
      expect(lines(thread.rolloutPath as string)[0]).toMatchObject({
        type: 'session_meta',
        payload: { cli_version: expected },
      });
      expect((await row(h.stateDb!, params.threadId))?.cliVersion).toBe(expected);
    }
  });

  it('writes nothing for a created thread that never got an append', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(h.local, params, noGit);
    const path = h.local.liveRolloutPath(params.threadId);
    await live.flush();
    await live.shutdown();
    expect(existsSync(path)).toBe(false);
    expect(await row(h.stateDb as StateDb, params.threadId)).toBeUndefined();
  });

  it('writes the create params into session_meta in the writer key order, newer fields included', async () => {
    const h = await setup(false);
    const params = {
      ...createThreadParams(h.cwd),
      sessionId: '01a20154-0000-7000-8000-0000000000aa' as ThreadId,
      threadSource: 'user' as const,
      dynamicTools: [{ name: 'lookup', description: 'finds things' }],
      selectedCapabilityRoots: [{ path: '/caps' }],
      multiAgentVersion: 'v2',
      initialWindowId: 'window-1',
    };
    const live = await LiveThread.create(h.local, params, noGit);
    const path = h.local.liveRolloutPath(params.threadId);
    await live.appendItems([userMessageItem('hello')]);
    await live.shutdown();
    const [first] = lines(path);
    const meta = first?.payload as Record<string, unknown>;
    expect(first?.type).toBe('session_meta');
    expect(Object.keys(meta)).toEqual([
      'id',
      'session_id',
      'timestamp',
      'cwd',
      'originator',
      'cli_version',
      'source',
      'thread_source',
      'model_provider',
      'base_instructions',
      'dynamic_tools',
      'selected_capability_roots',
      'multi_agent_version',
      'context_window',
    ]);
    expect(meta).toMatchObject({
      id: params.threadId,
      session_id: params.sessionId,
      cwd: h.cwd,
      dynamic_tools: params.dynamicTools,
      selected_capability_roots: params.selectedCapabilityRoots,
      multi_agent_version: 'v2',
      context_window: { window_id: 'window-1' },
    });
    // The in-memory store synthesizes the same first item from the same params.
    const memory = new InMemoryThreadStore();
    await memory.createThread(params);
    const history = await memory.loadHistory({ threadId: params.threadId, includeArchived: true });
    const memoryMeta = history.items[0]?.payload as Record<string, unknown>;
    expect({ ...memoryMeta, timestamp: '', cli_version: '' }).toEqual({
      ...meta,
      timestamp: '',
      cli_version: '',
    });
  });

  it('raw appends are history only: no SQLite row', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    await h.local.createThread(params);
    await h.local.appendItems({ threadId: params.threadId, items: [userMessageItem('raw')] });
    await h.local.flushThread(params.threadId);
    expect(lines(h.local.liveRolloutPath(params.threadId)).length).toBe(2);
    expect(await row(h.stateDb as StateDb, params.threadId)).toBeUndefined();
  });

  it('LiveThread appends derive the SQLite row', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(h.local, params, noGit);
    await live.appendItems([userMessageItem('derived message')]);
    const meta = await row(h.stateDb as StateDb, params.threadId);
    expect(meta?.firstUserMessage).toBe('derived message');
    expect(meta?.preview).toBe('derived message');
    expect(meta?.title).toBe('derived message');
    expect(meta?.rolloutPath).toBe(live.localRolloutPath());
    await live.appendItems([turnStartedItem('turn-1')]);
    const afterTurn = await row(h.stateDb as StateDb, params.threadId);
    await live.appendItems([
      agentMessageItem('out'),
      tokenCountItem(7),
      turnCompleteItem('turn-1'),
    ]);
    const afterOutput = await row(h.stateDb as StateDb, params.threadId);
    expect(afterOutput?.updatedAtMs).toBeGreaterThan(afterTurn?.updatedAtMs ?? 0);
    expect(afterOutput?.recencyAtMs).toBe(afterTurn?.recencyAtMs);
    expect(afterOutput?.tokensUsed).toBe(7);
    await live.shutdown();
  });

  it('a token-count-only thread is materialized and its row points at the live path', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(h.local, params, noGit);
    const path = live.localRolloutPath();
    await live.appendItems([tokenCountItem(3)]);
    await live.shutdown();
    expect(path).not.toBeNull();
    expect(existsSync(path as string)).toBe(true);
    expect((await row(h.stateDb as StateDb, params.threadId))?.rolloutPath).toBe(path);
  });

  it('resume observes the rollout history, not the resume params', async () => {
    const h = await setup(true);
    const { threadId } = await recorded(h, 'first words');
    const resumed = await LiveThread.resume(
      h.local,
      resumeThreadParams(threadId, h.cwd, {
        metadata: { cwd: h.cwd, modelProvider: 'resume-provider', memoryMode: 'enabled' },
      }),
      noGit,
    );
    await resumed.appendItems([userMessageItem('second words')]);
    const meta = await row(h.stateDb as StateDb, threadId);
    expect(meta?.firstUserMessage).toBe('first words');
    expect(meta?.modelProvider).toBe('test-provider');
    await expectThreadStoreError(
      h.local.resumeThread(resumeThreadParams(threadId, h.cwd)),
      'InvalidRequest',
      'already has a live local writer',
    );
    await resumed.shutdown();
  });

  it("the config's fsync policy decides where created and resumed writers' flushes fsync", async () => {
    const h = await setup(false);
    for (const [budgetMs, where] of [
      [0, 'threadpool'],
      [60_000, 'inline'],
    ] as const) {
      const fsyncPolicy = new FsyncPolicy({ budgetMs });
      const store = new LocalThreadStore({ codexHome: h.home, fsyncPolicy, ...noGit });
      const params = createThreadParams(h.cwd);
      await store.createThread(params);
      await store.appendItems({ threadId: params.threadId, items: [userMessageItem('one')] });
      await store.flushThread(params.threadId);
      const path = store.liveRolloutPath(params.threadId);
      await store.shutdownThread(params.threadId);
      await store.resumeThread(resumeThreadParams(params.threadId, h.cwd));
      await store.appendItems({ threadId: params.threadId, items: [userMessageItem('two')] });
      await store.flushThread(params.threadId);
      await store.close();
      const { inline, threadpool } = fsyncPolicy.counts;
      // Two flushes and two shutdowns (the second by close), all through the store's policy.
      expect(where === 'inline' ? inline : threadpool).toBe(4);
      expect(where === 'inline' ? threadpool : inline).toBe(0);
      const texts = lines(path).flatMap((line) =>
        line.type === 'event_msg' ? [(line.payload as { message?: string }).message] : [],
      );
      expect(texts).toEqual(['one', 'two']);
    }
  });

  it('discard stops the writer, keeps the durable prefix, and allows a later resume', async () => {
    const h = await setup(false);
    const params = createThreadParams(h.cwd);
    await h.local.createThread(params);
    await h.local.discardThread(params.threadId);
    expect(existsSync(join(h.home, 'sessions'))).toBe(false);
    const second = createThreadParams(h.cwd);
    await h.local.createThread(second);
    await h.local.appendItems({ threadId: second.threadId, items: [userMessageItem('kept')] });
    await h.local.discardThread(second.threadId);
    await h.local.discardThread(second.threadId);
    await expectThreadStoreError(
      h.local.appendItems({ threadId: second.threadId, items: [userMessageItem('x')] }),
      'ThreadNotFound',
    );
    const reopened = new LocalThreadStore({ codexHome: h.home, ...noGit });
    await reopened.resumeThread(resumeThreadParams(second.threadId, h.cwd));
    await reopened.appendItems({ threadId: second.threadId, items: [userMessageItem('more')] });
    const history = await reopened.loadHistory({ threadId: second.threadId });
    const texts = history.items
      .filter((item) => item.type === 'event_msg')
      .map((item) => (item.payload as { message?: string }).message);
    expect(texts).toEqual(['kept', 'more']);
    await reopened.close();
  });
});

describe('LocalThreadStore reads', () => {
  it('falls back to the filesystem and repairs a row that points at another thread', async () => {
    const h = await setup(true);
    const a = await recorded(h, 'Hello from user');
    const b = await recorded(h, 'the other thread');
    const db = h.stateDb as StateDb;
    await db.db
      .updateTable('threads')
      .set({ rollout_path: b.path })
      .where('id', '=', a.threadId)
      .execute();
    const thread = await h.local.readThread({ threadId: a.threadId, includeHistory: true });
    expect(thread.rolloutPath).toBe(a.path);
    expect(thread.preview).toBe('Hello from user');
    expect(thread.modelProvider).toBe('test-provider');
    expect(thread.history?.items.length).toBe(2);
    expect((await row(db, a.threadId))?.rolloutPath).toBe(a.path);
  });

  it('a legacy thread read without history is its rollout head with the DB facts laid over', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd, { historyMode: 'legacy', threadSource: 'user' });
    const live = await LiveThread.create(h.local, params, noGit);
    await live.appendItems([userMessageItem('Legacy hello')]);
    await live.shutdown();
    const db = h.stateDb as StateDb;
    const before = (await row(db, params.threadId)) as ThreadMetadata;
    await db.db
      .updateTable('threads')
      .set({
        cli_version: '9.9.9',
        originator: 'db-orig',
        preview: 'db preview',
        model: 'db-model',
        cwd: '/db/cwd',
        git_branch: 'db-branch',
        updated_at_ms: before.updatedAtMs + 60_000,
        recency_at_ms: before.updatedAtMs + 90_000,
      })
      .where('id', '=', params.threadId)
      .execute();
    const thread = await h.local.readThread({ threadId: params.threadId });
    // From the rollout: its first message, versions, and its creation time for both times.
    expect(thread.preview).toBe('Legacy hello');
    expect(thread.cliVersion).not.toBe('9.9.9');
    expect(thread.originator).toBe('skein_test');
    expect(thread.updatedAtMs).toBe(thread.createdAtMs);
    // Codex's rollout view carries no thread source.
    expect(thread.threadSource).toBeNull();
    // From the DB: what only it knows.
    expect(thread.model).toBe('db-model');
    expect(thread.cwd).toBe('/db/cwd');
    expect(thread.gitInfo?.branch).toBe('db-branch');
    expect(thread.recencyAtMs).toBe(before.updatedAtMs + 90_000);
    // With its history, Codex answers from the DB row.
    const full = await h.local.readThread({ threadId: params.threadId, includeHistory: true });
    expect([full.preview, full.cliVersion, full.updatedAtMs]).toEqual([
      'db preview',
      '9.9.9',
      before.updatedAtMs + 60_000,
    ]);
  });

  it("answers a client's own thread source as stored", async () => {
    const h = await setup(true);
    const { threadId } = await recorded(h, 'Automation run');
    const db = h.stateDb as StateDb;
    await db.db
      .updateTable('threads')
      .set({ thread_source: 'nightly-digest' })
      .where('id', '=', threadId)
      .execute();
    const thread = await h.local.readThread({ threadId, includeHistory: true });
    expect(thread.threadSource).toBe('nightly-digest');
  });

  it('lists a 0.131 row without an originator as 0.169 does (none), reads it from the rollout', async () => {
    const harness = await localHarness(true, '0.131.0');
    harnesses.push(harness);
    const h = { ...harness, local: harness.store as LocalThreadStore };
    const { threadId } = await recorded(h, 'Old home');
    // Every source and provider: the DB page.
    const page = await h.local.listThreads({
      pageSize: 10,
      allowedSources: [],
      modelProviders: [],
    });
    expect(page.items.find((t) => t.threadId === threadId)?.originator ?? null).toBeNull();
    expect((await h.local.readThread({ threadId })).originator).toBe('skein_test');
  });

  it('serves a summary from a row whose rollout is gone', async () => {
    const h = await setup(true);
    const { threadId, path } = await recorded(h, 'row only');
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path);
    const thread = await h.local.readThread({ threadId });
    expect(thread.preview).toBe('row only');
    expect(thread.firstUserMessage).toBe('row only');
    expect(thread.name).toBeNull();
    await expectThreadStoreError(
      h.local.readThread({ threadId, includeHistory: true }),
      'InvalidRequest',
      `no rollout found for thread id ${threadId}`,
    );
  });

  it('reads by a path relative to the home and merges non-null SQLite git fields', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    const local = new LocalThreadStore(
      {
        codexHome: h.home,
        defaultModelProvider: 'test-provider',
        collectGitInfo: async () => ({
          commitHash: 'abcdef',
          branch: 'main',
          repositoryUrl: 'https://example.com/repo.git',
        }),
      },
      h.stateDb,
    );
    const live = await LiveThread.create(local, params, noGit);
    await live.appendItems([userMessageItem('git merge')]);
    await live.shutdown();
    const db = h.stateDb as StateDb;
    await db.db
      .updateTable('threads')
      .set({ git_branch: 'sqlite-branch', git_sha: null, git_origin_url: null })
      .where('id', '=', params.threadId)
      .execute();
    const path = (await local.readThread({ threadId: params.threadId })).rolloutPath as string;
    const relative = path.slice(h.home.length + 1);
    const thread = await local.readThreadByRolloutPath({ rolloutPath: relative });
    expect(thread.rolloutPath).toBe(path);
    expect(thread.gitInfo).toEqual({
      commitHash: 'abcdef',
      branch: 'sqlite-branch',
      repositoryUrl: 'https://example.com/repo.git',
    });
  });

  it('without a DB, an archived thread is invisible to active reads and the active copy wins', async () => {
    const h = await setup(false);
    const { threadId, path } = await recorded(h, 'Archived user message');
    await h.local.archiveThread({ threadId });
    await expectThreadStoreError(
      h.local.readThread({ threadId }),
      'InvalidRequest',
      `no rollout found for thread id ${threadId}`,
    );
    const archived = await h.local.readThread({ threadId, includeArchived: true });
    expect(archived.archivedAtMs).toBe(archived.updatedAtMs);
    expect(archived.preview).toBe('Archived user message');
    expect(archived.history).toBeNull();
    // Put an active copy back beside the archived one: the active one wins.
    writeFileSync(path, readFileSync(join(h.home, 'archived_sessions', basename(path))));
    const both = await h.local.readThread({ threadId, includeArchived: true });
    expect(both.rolloutPath).toBe(path);
    expect(both.archivedAtMs).toBeNull();
  });
});

describe('LocalThreadStore metadata updates', () => {
  it('a name goes to the row and to session_index.jsonl (newest wins)', async () => {
    for (const withDb of [false, true]) {
      const h = await setup(withDb);
      const { threadId } = await recorded(h, 'name target');
      await h.local.updateThreadMetadata({ threadId, patch: { name: 'First' } });
      const named = await h.local.updateThreadMetadata({ threadId, patch: { name: 'Second' } });
      expect(named.name).toBe('Second');
      const index = lines(join(h.home, 'session_index.jsonl'));
      expect(index.at(-1)).toMatchObject({ id: threadId, thread_name: 'Second' });
      const fresh = new LocalThreadStore({ codexHome: h.home });
      expect((await fresh.readThread({ threadId })).name).toBe('Second');
    }
  });

  it('memory mode appends a session_meta copy without git and reaches SQLite', async () => {
    const h = await setup(true);
    const { threadId, path } = await recorded(h, 'memory target');
    await h.local.updateThreadMetadata({ threadId, patch: { memoryMode: 'disabled' } });
    const last = lines(path).at(-1) as { type: string; payload: Record<string, unknown> };
    expect(last.type).toBe('session_meta');
    expect(last.payload.memory_mode).toBe('disabled');
    expect('git' in last.payload).toBe(false);
    expect((await row(h.stateDb as StateDb, threadId))?.memoryMode).toBe('disabled');
  });

  it('git: partial keeps other fields, clear-all writes "git": {}, later memory updates omit git', async () => {
    const h = await setup(true);
    const { threadId, path } = await recorded(h, 'git target');
    await h.local.updateThreadMetadata({
      threadId,
      patch: { gitInfo: { sha: 'abcdef', branch: 'main', originUrl: 'https://o' } },
    });
    const partial = await h.local.updateThreadMetadata({
      threadId,
      patch: { gitInfo: { branch: 'feature' } },
    });
    expect(partial.gitInfo).toEqual({
      commitHash: 'abcdef',
      branch: 'feature',
      repositoryUrl: 'https://o',
    });
    const cleared = await h.local.updateThreadMetadata({
      threadId,
      patch: { gitInfo: { sha: null, branch: null, originUrl: null } },
    });
    expect(cleared.gitInfo).toBeNull();
    const clearLine = lines(path).at(-1) as { payload: Record<string, unknown> };
    expect(clearLine.payload.git).toEqual({});
    await h.local.updateThreadMetadata({ threadId, patch: { memoryMode: 'disabled' } });
    const memoryLine = lines(path).at(-1) as { payload: Record<string, unknown> };
    expect('git' in memoryLine.payload).toBe(false);
    expect((await h.local.readThread({ threadId })).gitInfo).toBeNull();
  });

  it('a metadata patch for an unknown thread fails and creates no row', async () => {
    const h = await setup(true);
    const unknown = createThreadParams(h.cwd).threadId;
    await expectThreadStoreError(
      h.local.updateThreadMetadata({ threadId: unknown, patch: { preview: 'x' } }),
      'InvalidRequest',
      `thread not found: ${unknown}`,
    );
    expect(await row(h.stateDb as StateDb, unknown)).toBeUndefined();
  });

  it('recreates a missing row of an archived thread as archived', async () => {
    const h = await setup(true);
    const { threadId } = await recorded(h, 'archived row');
    await h.local.archiveThread({ threadId });
    const db = h.stateDb as StateDb;
    await db.db.deleteFrom('threads').where('id', '=', threadId).execute();
    await h.local.updateThreadMetadata({
      threadId,
      patch: { preview: 'changed' },
      includeArchived: true,
    });
    const meta = await row(db, threadId);
    expect(meta?.archived).toBe(true);
    expect(meta?.archivedAtMs).not.toBeNull();
  });

  it('a broken state DB never fails appends or derived updates, but explicit git updates fail', async () => {
    const h = await setup(true);
    const db = h.stateDb as StateDb;
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(h.local, params, noGit);
    await live.appendItems([userMessageItem('before corruption')]);
    db.sqlite.exec('DROP TABLE thread_spawn_edges; DROP TABLE threads;');
    await live.appendItems([userMessageItem('after corruption'), tokenCountItem(5)]);
    await live.flush();
    await live.persist();
    const renamed = await live.updateMetadata({ name: 'still named' });
    expect(renamed.name).toBe('still named');
    await expectThreadStoreError(live.updateMetadata({ gitInfo: { branch: 'x' } }), 'Internal');
    await live.shutdown();
    const history = await new LocalThreadStore({ codexHome: h.home }).loadHistory({
      threadId: params.threadId,
    });
    const texts = history.items
      .filter((item) => item.type === 'event_msg')
      .map((item) => (item.payload as { message?: string }).message);
    expect(texts).toContain('after corruption');
  });

  it('a locked state DB never fails appends, but explicit git updates fail', async () => {
    const root = makeTempDir('skein-locked-');
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    mkdirSync(cwd, { recursive: true });
    const db = await StateRuntime.open({ sqliteHome: home, busyTimeoutMs: 50 });
    const local = new LocalThreadStore({ codexHome: home, ...noGit }, db);
    const live = await LiveThread.create(local, createThreadParams(cwd), noGit);
    await live.appendItems([userMessageItem('unlocked')]);
    // A second connection (another process would do the same) holds the write lock.
    const Database = db.sqlite.constructor as new (
      path: string,
    ) => {
      exec(sql: string): void;
      close(): void;
    };
    const other = new Database(db.path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      await live.appendItems([userMessageItem('while locked')]);
      await live.flush();
      await expectThreadStoreError(live.updateMetadata({ gitInfo: { branch: 'x' } }), 'Internal');
      const history = await live.loadHistory();
      expect(history.items.length).toBe(3);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await live.shutdown();
      await local.close();
      await db.close();
      removeTempDir(root);
    }
  });
});

describe('LocalThreadStore archive and delete', () => {
  it('archive moves the file and marks the row; unarchive restores both', async () => {
    const h = await setup(true);
    const { threadId, path } = await recorded(h, 'Archived user message');
    await h.local.archiveThread({ threadId });
    const archivedPath = join(h.home, 'archived_sessions', basename(path));
    expect(existsSync(path)).toBe(false);
    expect(existsSync(archivedPath)).toBe(true);
    const meta = await row(h.stateDb as StateDb, threadId);
    expect(meta?.rolloutPath).toBe(archivedPath);
    expect(meta?.archivedAtMs).not.toBeNull();
    const listed = await h.local.listThreads({ pageSize: 10, archived: true });
    expect(listed.items[0]?.rolloutPath).toBe(archivedPath);
    const restored = await h.local.unarchiveThread({ threadId });
    expect(restored.rolloutPath).toBe(path);
    expect(restored.archivedAtMs).toBeNull();
    expect(restored.firstUserMessage).toBe('Archived user message');
    expect((await row(h.stateDb as StateDb, threadId))?.archivedAtMs).toBeNull();
    expect(statSync(path).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
  });

  it('delete removes active, archived and .zst files, the name lines and the row', async () => {
    const h = await setup(true);
    const { threadId, path } = await recorded(h, 'delete all');
    await h.local.updateThreadMetadata({ threadId, patch: { name: 'doomed' } });
    const keep = await recorded(h, 'keep me');
    await h.local.updateThreadMetadata({ threadId: keep.threadId, patch: { name: 'kept' } });
    writeFileSync(`${path}.zst`, 'not really zstd');
    const archivedCopy = join(h.home, 'archived_sessions', basename(path));
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(join(h.home, 'archived_sessions'), { recursive: true });
    copyFileSync(path, archivedCopy);
    await h.local.deleteThread({ threadId });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.zst`)).toBe(false);
    expect(existsSync(archivedCopy)).toBe(false);
    expect(await row(h.stateDb as StateDb, threadId)).toBeUndefined();
    const index = lines(join(h.home, 'session_index.jsonl'));
    expect(index.map((entry) => entry.id)).toEqual([keep.threadId]);
    await expectThreadStoreError(
      h.local.deleteThread({ threadId: '00000000-0000-0000-0000-000000000304' as ThreadId }),
      'ThreadNotFound',
      'thread 00000000-0000-0000-0000-000000000304 not found',
    );
  });
});

describe('a store that is not local', () => {
  it('leaves the Codex home and its SQLite byte-identical', async () => {
    const h = await setup(true);
    await recorded(h, 'existing local thread');
    await h.stateDb?.close();
    const before = snapshot(h.home);
    const store = new InMemoryThreadStore();
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(store, params, noGit);
    await live.appendItems([userMessageItem('in memory only'), turnStartedItem('t')]);
    await live.persist();
    await live.flush();
    await live.updateMetadata({ name: 'mem', gitInfo: { branch: 'b' } });
    await live.updateMemoryMode('disabled');
    await store.archiveThread({ threadId: params.threadId });
    await store.listThreads({ pageSize: 10 });
    await live.shutdown();
    await store.deleteThread({ threadId: params.threadId });
    expect(live.localRolloutPath()).toBeNull();
    expect(snapshot(h.home)).toEqual(before);
  });
});

describe('LocalThreadStore edge rules', () => {
  it('a live writer on an archived rollout: active-only reads fail, archived reads see new appends', async () => {
    const h = await setup(false);
    const { threadId, path } = await recorded(h, 'archived live');
    await h.local.archiveThread({ threadId });
    const archivedPath = join(h.home, 'archived_sessions', basename(path));
    await h.local.resumeThread(
      resumeThreadParams(threadId, h.cwd, { rolloutPath: archivedPath, includeArchived: true }),
    );
    await h.local.appendItems({ threadId, items: [userMessageItem('appended while archived')] });
    await expectThreadStoreError(h.local.loadHistory({ threadId }), 'InvalidRequest', 'archived');
    await expectThreadStoreError(h.local.readThread({ threadId }), 'InvalidRequest');
    const history = await h.local.loadHistory({ threadId, includeArchived: true });
    expect(
      history.items.some(
        (item) => (item.payload as { message?: string }).message === 'appended while archived',
      ),
    ).toBe(true);
    await h.local.shutdownThread(threadId);
  });

  it('paginated threads in a 0.169 home: ordinals, projection in step, resume repairs and continues', async () => {
    const h = await setup(true);
    const db = h.stateDb as StateDb;
    const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
    const id = params.threadId;
    const live = await LiveThread.create(h.local, params, noGit);
    await live.appendItems(paginatedTurnItems(newThreadId(), 'first paginated question', 'one'));
    await live.shutdown();
    const path = (await h.local.readThread({ threadId: id })).rolloutPath as string;
    const ordinals = () =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).ordinal);
    expect(ordinals()).toEqual(ordinals().map((_: unknown, i: number) => i));
    const history = db.historyDb() as HistoryDb;
    const fromScratch = async () =>
      new HistoryProjector({ nextByteOffset: 0, nextOrdinal: 0 }).project(
        await readProjectableLines(path),
      );
    let expected = await fromScratch();
    expect(history.projectionState(id)).toEqual(expected.state);
    expect(history.turns(id)).toEqual(expected.turns);
    expect(history.items(id)).toEqual(expected.items);
    const row = await getThread(db.ctx, id);
    expect([row?.historyMode, row?.preview]).toEqual(['paginated', 'first paginated question']);

    // Opening the writer rebuilds a lost projection (as Codex's does); ordinals continue.
    history.deleteThread(id);
    const resumed = await LiveThread.resume(h.local, resumeThreadParams(id, h.cwd), noGit);
    expect(history.projectionState(id)).toEqual(expected.state);
    await resumed.appendItems(paginatedTurnItems(newThreadId(), 'second question', 'two'));
    await resumed.shutdown();
    expect(ordinals()).toEqual(ordinals().map((_: unknown, i: number) => i));
    expected = await fromScratch();
    expect(history.projectionState(id)).toEqual(expected.state);
    expect(history.turns(id)).toEqual(expected.turns);
    expect(history.items(id)).toEqual(expected.items);
    const turns = await h.local.listTurns({ threadId: id, pageSize: 10 });
    expect(turns.turns.length).toBe(2);
  });

  it('a paginated fork references its source: one session_meta line, inherited turns read through', async () => {
    const h = await setup(true);
    const source = createThreadParams(h.cwd, { historyMode: 'paginated' });
    const firstTurn = newThreadId();
    const live = await LiveThread.create(h.local, source, noGit);
    await live.appendItems(paginatedTurnItems(firstTurn, 'source question', 'one'));
    await live.appendItems(paginatedTurnItems(newThreadId(), 'later question', 'two'));
    await live.shutdown();
    const sourcePath = (await h.local.readThread({ threadId: source.threadId }))
      .rolloutPath as string;
    const sourceLines = await readProjectableLines(sourcePath);
    const whole = await h.local.forkBase(source.threadId);
    expect(whole).toEqual({
      threadId: source.threadId,
      endOrdinalExclusive: sourceLines.length,
      endByteOffset: statSync(sourcePath).size,
    });
    const cut = await h.local.forkBase(source.threadId, { afterTurnId: firstTurn });
    expect(cut?.endOrdinalExclusive).toBeLessThan(sourceLines.length);

    const forkParams = createThreadParams(h.cwd, {
      historyMode: 'paginated',
      forkedFromId: source.threadId,
      historyBase: cut,
    });
    const fork = await LiveThread.create(h.local, forkParams, noGit);
    await fork.persist();
    await fork.shutdown();
    const forkPath = (await h.local.readThread({ threadId: forkParams.threadId }))
      .rolloutPath as string;
    const forkLines = readFileSync(forkPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(forkLines).toHaveLength(1);
    expect(forkLines[0]).toMatchObject({
      ordinal: cut?.endOrdinalExclusive,
      type: 'session_meta',
      payload: {
        forked_from_id: source.threadId,
        forked_from_ordinal_exclusive: cut?.endOrdinalExclusive,
        history_mode: 'paginated',
        history_base: {
          thread_id: source.threadId,
          end_ordinal_exclusive: cut?.endOrdinalExclusive,
          end_byte_offset: cut?.endByteOffset,
        },
      },
    });
    const turns = await h.local.listTurns({ threadId: forkParams.threadId, pageSize: 10 });
    expect(turns.turns.map((turn) => turn.turnId)).toEqual([firstTurn]);
    const history = (h.stateDb as StateDb).historyDb() as HistoryDb;
    // The fork owns no rows of its source (spec codex-db-effects §4.4.5).
    expect(history.turns(forkParams.threadId)).toEqual([]);
    expect(history.projectionState(forkParams.threadId)).toEqual({
      nextByteOffset: statSync(forkPath).size,
      nextOrdinal: (cut?.endOrdinalExclusive ?? 0) + 1,
    });
  });

  it('mutations land as Codex writes them: rename, git, archive, unarchive, delete (paginated)', async () => {
    const h = await setup(true);
    const db = h.stateDb as StateDb;
    const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
    const id = params.threadId;
    const live = await LiveThread.create(h.local, params, noGit);
    await live.appendItems(paginatedTurnItems(newThreadId(), 'mutate me', 'ok'));
    await live.shutdown();
    const path = (await h.local.readThread({ threadId: id })).rolloutPath as string;
    const bytes = () =>
      readFileSync(
        path.replace('/sessions/', '/archived_sessions/').replace(/\/\d{4}\/\d{2}\/\d{2}\//, '/'),
        'utf8',
      );
    const fileBefore = readFileSync(path, 'utf8');
    const row0 = (await getThread(db.ctx, id)) as ThreadMetadata;

    // Rename: the name column only (0.169 paginated), no timestamps, rollout untouched.
    await h.local.updateThreadMetadata({ threadId: id, patch: { name: 'Renamed' } });
    let row = (await getThread(db.ctx, id)) as ThreadMetadata;
    expect([row.name, row.title, row.updatedAtMs, row.recencyAtMs]).toEqual([
      'Renamed',
      row0.title,
      row0.updatedAtMs,
      row0.recencyAtMs,
    ]);
    // Git: the DB columns only, rollout untouched.
    await h.local.updateThreadMetadata({
      threadId: id,
      patch: { gitInfo: { sha: 'abc123', branch: 'feature/x', originUrl: null } },
    });
    row = (await getThread(db.ctx, id)) as ThreadMetadata;
    expect([row.gitSha, row.gitBranch, row.updatedAtMs]).toEqual([
      'abc123',
      'feature/x',
      row0.updatedAtMs,
    ]);
    expect(readFileSync(path, 'utf8')).toBe(fileBefore);

    // Archive: the file moves with its mtime; the row's update time is that mtime.
    await h.local.archiveThread({ threadId: id });
    row = (await getThread(db.ctx, id)) as ThreadMetadata;
    expect(row.archived).toBe(true);
    expect(row.rolloutPath).toContain('/archived_sessions/');
    // Allocated as every update time is (unique): within this busy second, just past it.
    const archivedMtime = Math.floor(statSync(row.rolloutPath).mtimeMs);
    expect(row.updatedAtMs - archivedMtime).toBeGreaterThanOrEqual(0);
    expect(row.updatedAtMs - archivedMtime).toBeLessThan(50);
    expect(row.recencyAtMs).toBe(row0.recencyAtMs);
    expect(bytes()).toBe(fileBefore);
    // Unarchive: back under sessions/, mtime and update time now.
    await h.local.unarchiveThread({ threadId: id });
    row = (await getThread(db.ctx, id)) as ThreadMetadata;
    expect([row.archived, row.archivedAtMs, row.rolloutPath]).toEqual([false, null, path]);
    const restoredMtime = Math.floor(statSync(path).mtimeMs);
    expect(row.updatedAtMs - restoredMtime).toBeGreaterThanOrEqual(0);
    expect(row.updatedAtMs - restoredMtime).toBeLessThan(50);

    // Delete is refused while a paginated fork reads through the thread, then goes all the way.
    const base = await h.local.forkBase(id);
    const forkParams = createThreadParams(h.cwd, {
      historyMode: 'paginated',
      forkedFromId: id,
      historyBase: base,
    });
    const fork = await LiveThread.create(h.local, forkParams, noGit);
    await fork.persist();
    await fork.shutdown();
    await expect(h.local.deleteThread({ threadId: id })).rejects.toMatchObject({
      code: 'InvalidRequest',
      detail: `cannot delete thread ${id}: forked history still references it`,
    });
    expect(existsSync(path)).toBe(true);
    await h.local.deleteThread({ threadId: forkParams.threadId });
    const history = db.historyDb() as HistoryDb;
    expect(history.projectionState(id)).toBeDefined();
    await h.local.deleteThread({ threadId: id });
    expect(existsSync(path)).toBe(false);
    expect(await getThread(db.ctx, id)).toBeUndefined();
    expect(history.projectionState(id)).toBeUndefined();
    expect(history.turns(id)).toEqual([]);
  });

  it("read receipts follow completed turns and read/unread marks as 0.169's do", async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd, { historyMode: 'paginated' });
    const id = params.threadId;
    expect((await h.local.readStates([id])).get(id)).toEqual({
      firstUnread: null,
      revision: `initial:${id}`,
    });
    const live = await LiveThread.create(h.local, params, noGit);
    const first = newThreadId();
    await live.appendItems(paginatedTurnItems(first, 'receipt one', 'a'));
    const afterFirst = (await h.local.readStates([id])).get(id);
    expect(afterFirst?.firstUnread).toEqual({ type: 'turn', turnId: first });
    await live.appendItems(paginatedTurnItems(newThreadId(), 'receipt two', 'b'));
    const afterSecond = (await h.local.readStates([id])).get(id);
    // The first unread turn stays; the revision moves.
    expect(afterSecond?.firstUnread).toEqual({ type: 'turn', turnId: first });
    expect(afterSecond?.revision).not.toBe(afterFirst?.revision);
    await live.shutdown();

    const read = await h.local.updateReadState({
      threadId: id,
      operation: 'read',
      expectedRevision: afterSecond?.revision ?? null,
    });
    expect(read.firstUnread).toBeNull();
    await expect(
      h.local.updateReadState({ threadId: id, operation: 'unread', expectedRevision: 'stale' }),
    ).rejects.toMatchObject({ code: 'Conflict' });
    const unread = await h.local.updateReadState({
      threadId: id,
      operation: 'unread',
      expectedRevision: read.revision,
    });
    expect(unread.firstUnread).toEqual({ type: 'threadStart' });

    // A sub-agent's turns publish nothing (0.169 keeps receipts for threads a user reads).
    const child = createThreadParams(h.cwd, { historyMode: 'paginated', threadSource: 'subagent' });
    const childLive = await LiveThread.create(h.local, child, noGit);
    await childLive.appendItems(paginatedTurnItems(newThreadId(), 'child turn', 'c'));
    await childLive.shutdown();
    expect((await h.local.readStates([child.threadId])).get(child.threadId)?.revision).toBe(
      `initial:${child.threadId}`,
    );
  });

  it('a copied home never reads or writes the original through its rows', async () => {
    const { home: original, manifest } = installFixtureHome('codex-0.169');
    const copy = join(makeTempDir('skein-copied-home-'), 'home');
    cpSync(original, copy, { recursive: true, preserveTimestamps: true });
    const snapshot = (dir: string) =>
      readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => `${f}:${readFileSync(join(dir, f), 'utf8').length}`);
    const before = snapshot(original);
    const db = await initStateDb({ codexHome: copy });
    const store = new LocalThreadStore({ codexHome: copy, ...noGit }, db);
    try {
      const listed = await store.listThreads({ pageSize: 100, allowedSources: [] });
      expect(listed.items.length).toBeGreaterThan(3);
      for (const thread of listed.items)
        expect(thread.rolloutPath?.startsWith(`${copy}/`)).toBe(true);
      const target = manifest.threads.find((t) => t.key === manifest.roles.plain) as { id: string };
      const read = await store.readThread({ threadId: target.id as ThreadId });
      expect(read.rolloutPath?.startsWith(`${copy}/`)).toBe(true);
      const live = await LiveThread.resume(
        store,
        resumeThreadParams(target.id as ThreadId, '/home/dev/projects/alpha'),
        noGit,
      );
      await live.appendItems(paginatedTurnItems(newThreadId(), 'appended in the copy', 'ok'));
      await live.shutdown();
      await store.deleteThread({ threadId: target.id as ThreadId });
      expect(snapshot(original)).toEqual(before);
      expect(existsSync(read.rolloutPath as string)).toBe(false);
    } finally {
      await store.close();
      await db.close();
    }
  });

  it("holds Codex's writer lock while writing and respects one another process holds", async () => {
    const h = await setup(true);
    const { threadId } = await recorded(h, 'locked thread');
    const lockPath = join(h.home, 'thread-writer-locks', `${threadId}.lock`);
    // Another process (as Codex 0.169 does for a loaded thread) holds flock on the lock file.
    const holder = spawn('flock', ['-o', lockPath, 'sleep', '30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !existsSync(lockPath); i += 1) await sleep(10);
      await sleep(50);
      const refusal = {
        code: 'InvalidRequest',
        detail: `thread ${threadId} already has an active writer`,
      };
      await expect(h.local.resumeThread(resumeThreadParams(threadId, h.cwd))).rejects.toMatchObject(
        refusal,
      );
      await expect(h.local.archiveThread({ threadId })).rejects.toMatchObject(refusal);
      await expect(h.local.deleteThread({ threadId })).rejects.toMatchObject(refusal);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // Freed when the holder dies; now ours while the writer is open.
    await h.local.resumeThread(resumeThreadParams(threadId, h.cwd));
    const probe = spawnSync('flock', ['-n', lockPath, 'true']);
    expect(probe.status).not.toBe(0);
    await h.local.shutdownThread(threadId);
    expect(spawnSync('flock', ['-n', lockPath, 'true']).status).toBe(0);
    await h.local.archiveThread({ threadId });
  });

  it('refuses paginated threads where the home has no 0.169 DB', async () => {
    const h = await setup(false);
    const error = await expectThreadStoreError(
      h.local.createThread(createThreadParams(h.cwd, { historyMode: 'paginated' })),
      'Unsupported',
    );
    expect(error.operation).toBe('paginated_threads');
  });

  it('cwd filters match unnormalized spellings of the same directory', async () => {
    for (const withDb of [false, true]) {
      const h = await setup(withDb);
      const { threadId } = await recorded(h, 'cwd spelling');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(h.cwd, 'child'), { recursive: true });
      const page = await h.local.listThreads({
        pageSize: 10,
        cwdFilters: [join(h.cwd, 'child', '..')],
      });
      expect(page.items.map((thread) => thread.threadId)).toEqual([threadId]);
    }
  });

  it('a name equal to the preview is not reported as a name', async () => {
    for (const withDb of [false, true]) {
      const h = await setup(withDb);
      const { threadId } = await recorded(h, 'same text');
      await h.local.updateThreadMetadata({ threadId, patch: { name: 'same text' } });
      expect((await h.local.readThread({ threadId })).name).toBeNull();
      const listed = await h.local.listThreads({ pageSize: 5 });
      expect(listed.items[0]?.name).toBeNull();
    }
  });
});

describe('LocalThreadStore odds and ends', () => {
  it('refuses rollout paths that are directories or missing', async () => {
    const h = await setup(false);
    await expectThreadStoreError(
      h.local.readThreadByRolloutPath({ rolloutPath: h.cwd }),
      'InvalidRequest',
      'path is a directory',
    );
    await expectThreadStoreError(
      h.local.readThreadByRolloutPath({ rolloutPath: join(h.home, 'sessions', 'rollout-x.jsonl') }),
      'InvalidRequest',
      'file does not exist',
    );
  });

  it('a background LiveThread over real files ends with the same row and history', async () => {
    const h = await setup(true);
    const params = createThreadParams(h.cwd);
    const live = await LiveThread.create(h.local, params, {
      ...noGit,
      metadataUpdates: 'background',
    });
    for (let index = 0; index < 20; index += 1) {
      await live.appendItems([userMessageItem(`message ${index}`)]);
    }
    await live.shutdown();
    const meta = await row(h.stateDb as StateDb, params.threadId);
    expect(meta?.firstUserMessage).toBe('message 0');
    const history = await h.local.loadHistory({ threadId: params.threadId });
    expect(history.items.length).toBe(21);
  });
});
