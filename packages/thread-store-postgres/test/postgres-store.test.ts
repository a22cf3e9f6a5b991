/** PostgresThreadStore behaviour beyond the shared conformance suite, on a real PostgreSQL. */
import { newThreadId } from '@skein/state';
import { type PostgresServer, startPostgres } from '@skein/test-support';
import { type SessionSource, SKEIN_CLI_VERSION, type ThreadId } from '@skein/thread-store';
import {
  createThreadParams,
  expectThreadStoreError,
  userMessageItem,
} from '@skein/thread-store/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresThreadStore } from '../src/index.js';

let server: PostgresServer;
const opened: PostgresThreadStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});
afterAll(async () => {
  await server?.stop();
});

async function open(url: string, leaseMs?: number): Promise<PostgresThreadStore> {
  const store = await PostgresThreadStore.open({
    connectionString: url,
    ...(leaseMs === undefined ? {} : { writerLeaseMs: leaseMs }),
  });
  opened.push(store);
  return store;
}

/** Creates, persists and gives a thread a preview (what LiveThread would do). */
async function record(
  store: PostgresThreadStore,
  preview: string,
  extra: Partial<Parameters<typeof createThreadParams>[1]> = {},
): Promise<ThreadId> {
  const params = createThreadParams('/work/project', extra);
  await store.createThread(params);
  await store.appendItems({ threadId: params.threadId, items: [userMessageItem(preview)] });
  await store.persistThread(params.threadId);
  await store.updateThreadMetadata({
    threadId: params.threadId,
    patch: { preview, firstUserMessage: preview, title: preview },
  });
  return params.threadId;
}

const messages = (items: readonly { type: string; payload: unknown }[]) =>
  items
    .filter((item) => item.type === 'event_msg')
    .map((item) => (item.payload as { message?: string }).message);

describe('PostgresThreadStore', () => {
  it('migrates once even when several stores open one database at the same time', async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([open(url), open(url), open(url)]);
    const threadId = await record(stores[0]!, 'shared');
    for (const store of stores) {
      expect((await store.readThread({ threadId })).preview).toBe('shared');
    }
  });

  it('filters by source and by spawn relation (children, descendants)', async () => {
    const store = await open(await server.createDatabase());
    const root = await record(store, 'root', { source: 'cli' });
    const spawn = (parent: ThreadId, depth: number): SessionSource => ({
      subagent: { thread_spawn: { parent_thread_id: parent, depth, agent_nickname: 'helper' } },
    });
    const child = await record(store, 'child', { source: spawn(root, 1) });
    const grandchild = await record(store, 'grandchild', { source: spawn(child, 2) });
    const execThread = await record(store, 'exec one', { source: 'exec' });

    const children = await store.listThreads({
      pageSize: 10,
      relationFilter: { kind: 'directChildrenOf', threadId: root },
    });
    expect(children.items.map((t) => t.threadId)).toEqual([child]);
    expect(children.items[0]?.parentThreadId).toBe(root);
    expect(children.items[0]?.agentNickname).toBe('helper');
    const descendants = await store.listThreads({
      pageSize: 10,
      relationFilter: { kind: 'descendantsOf', threadId: root },
    });
    expect(descendants.items.map((t) => t.threadId).sort()).toEqual([child, grandchild].sort());
    const bySource = await store.listThreads({ pageSize: 10, allowedSources: ['exec'] });
    expect(bySource.items.map((t) => t.threadId)).toEqual([execThread]);
    expect(bySource.items[0]?.source).toBe('exec');
    const none = await store.listThreads({
      pageSize: 10,
      relationFilter: { kind: 'directChildrenOf', threadId: grandchild },
    });
    expect(none.items).toEqual([]);
  });

  it('moves recency forward only and sorts by it', async () => {
    const store = await open(await server.createDatabase());
    const older = await record(store, 'older');
    const newer = await record(store, 'newer');
    const far = Date.now() + 60_000;
    const advanced = await store.updateThreadMetadata({
      threadId: older,
      patch: { advanceRecencyAtMs: far },
    });
    expect(advanced.recencyAtMs).toBeGreaterThanOrEqual(far);
    const notBack = await store.updateThreadMetadata({
      threadId: older,
      patch: { advanceRecencyAtMs: 1 },
    });
    expect(notBack.recencyAtMs).toBe(advanced.recencyAtMs);
    const page = await store.listThreads({ pageSize: 10, sortKey: 'recencyAt' });
    expect(page.items.map((t) => t.threadId)).toEqual([older, newer]);
  });

  it('keeps every metadata field across a reopen', async () => {
    const url = await server.createDatabase();
    const store = await open(url);
    const threadId = await record(store, 'fields');
    const tokenUsage = {
      inputTokens: 10,
      cachedInputTokens: 2,
      outputTokens: 5,
      reasoningOutputTokens: 1,
      totalTokens: 16,
    };
    const patched = await store.updateThreadMetadata({
      threadId,
      patch: {
        name: 'named',
        model: 'gpt-5',
        reasoningEffort: 'high',
        approvalMode: 'never',
        permissionProfile: { type: 'workspace-write', network: false },
        tokenUsage,
        threadSource: 'user',
        agentRole: 'reviewer',
        cliVersion: '0.169.0',
        gitInfo: { sha: 'abc', branch: 'main' },
      },
    });
    const again = await (await open(url)).readThread({ threadId });
    expect(again).toEqual(patched);
    expect(again).toMatchObject({
      name: 'named',
      model: 'gpt-5',
      reasoningEffort: 'high',
      approvalMode: 'never',
      permissionProfile: { type: 'workspace-write', network: false },
      tokenUsage,
      threadSource: 'user',
      agentRole: 'reviewer',
      cliVersion: '0.169.0',
      gitInfo: { commitHash: 'abc', branch: 'main', repositoryUrl: null },
      rolloutPath: null,
    });
  });

  it('answers unknown and archived threads with the documented errors', async () => {
    const store = await open(await server.createDatabase());
    const unknown = newThreadId();
    const error = await expectThreadStoreError(
      store.updateThreadMetadata({ threadId: unknown, patch: { name: 'x' } }),
      'ThreadNotFound',
    );
    expect(error.message).toBe(`thread ${unknown} not found`);
    await expectThreadStoreError(store.archiveThread({ threadId: unknown }), 'ThreadNotFound');
    const threadId = await record(store, 'to archive');
    await store.archiveThread({ threadId });
    await expectThreadStoreError(store.loadHistory({ threadId }), 'InvalidRequest', 'archived');
    expect(messages((await store.loadHistory({ threadId, includeArchived: true })).items)).toEqual([
      'to archive',
    ]);
    await expectThreadStoreError(store.listThreads({ pageSize: 0 }), 'InvalidRequest', 'page_size');
  });

  it('refuses a second writer in another store, and fences a writer whose lease was taken', async () => {
    const url = await server.createDatabase();
    const a = await open(url);
    const b = await open(url);
    const params = createThreadParams('/work/project');
    await a.createThread(params);
    const { threadId } = params;
    // Not yet materialized: the lease alone keeps B out.
    await expectThreadStoreError(b.createThread(params), 'Conflict', 'live writer');
    await a.appendItems({ threadId, items: [userMessageItem('a1')] });
    await a.persistThread(threadId);
    await expectThreadStoreError(
      b.resumeThread({ threadId, metadata: params.metadata }),
      'Conflict',
      'has a live writer in another process',
    );

    // A stalls past its lease (simulated by expiring it); B takes over and writes.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('UPDATE leases SET expires_at_ms = 0 WHERE name = $1', [
        `thread-writer:${threadId}`,
      ]);
    } finally {
      await admin.end();
    }
    await b.resumeThread({ threadId, metadata: params.metadata });
    await b.appendItems({ threadId, items: [userMessageItem('b1')] });
    // A's late append is refused, not interleaved.
    await expectThreadStoreError(
      a.appendItems({ threadId, items: [userMessageItem('a2 late')] }),
      'Conflict',
      'writer lease lost',
    );
    await b.shutdownThread(threadId);
    expect(messages((await a.loadHistory({ threadId })).items)).toEqual(['a1', 'b1']);
    // After B let go, A may resume again.
    await a.resumeThread({ threadId, metadata: params.metadata });
    await a.appendItems({ threadId, items: [userMessageItem('a3')] });
    await a.shutdownThread(threadId);
    expect(messages((await b.loadHistory({ threadId })).items)).toEqual(['a1', 'b1', 'a3']);
  });

  it('does not block appends to one thread while another thread is locked', async () => {
    const url = await server.createDatabase();
    const store = await open(url);
    const locked = createThreadParams('/work/project');
    const free = createThreadParams('/work/project');
    for (const params of [locked, free]) {
      await store.createThread(params);
      await store.persistThread(params.threadId);
    }
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        'SELECT item_count FROM thread_store_threads WHERE thread_id = $1 FOR UPDATE',
        [locked.threadId],
      );
      let lockedDone = false;
      const lockedAppend = store
        .appendItems({ threadId: locked.threadId, items: [userMessageItem('waits')] })
        .then(() => {
          lockedDone = true;
        });
      // The other thread's appends commit while the first one waits on its row lock.
      for (let index = 0; index < 5; index += 1) {
        await store.appendItems({ threadId: free.threadId, items: [userMessageItem(`f${index}`)] });
      }
      expect(lockedDone).toBe(false);
      await blocker.query('COMMIT');
      await lockedAppend;
      expect(lockedDone).toBe(true);
    } finally {
      await blocker.end();
    }
    expect(messages((await store.loadHistory({ threadId: free.threadId })).items)).toHaveLength(5);
    expect(messages((await store.loadHistory({ threadId: locked.threadId })).items)).toEqual([
      'waits',
    ]);
  });

  it('stores large batches in order with dense sequence numbers', async () => {
    const url = await server.createDatabase();
    const store = await open(url);
    const params = createThreadParams('/work/project');
    await store.createThread(params);
    await store.persistThread(params.threadId);
    const batch = Array.from({ length: 2500 }, (_, index) => userMessageItem(`m${index}`));
    await store.appendItems({ threadId: params.threadId, items: batch });
    await store.appendItems({ threadId: params.threadId, items: [userMessageItem('tail')] });
    const history = await store.loadHistory({ threadId: params.threadId });
    expect(messages(history.items)).toEqual([...batch.map((_, index) => `m${index}`), 'tail']);
    // The writer's version, in the row and in the opening session_meta, as a rollout would say.
    expect(history.items[0]?.payload).toMatchObject({ cli_version: SKEIN_CLI_VERSION });
    expect((await store.readThread({ threadId: params.threadId })).cliVersion).toBe(
      SKEIN_CLI_VERSION,
    );
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const result = await admin.query<{ n: string; lo: string; hi: string }>(
        'SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM thread_store_items WHERE thread_id = $1',
        [params.threadId],
      );
      expect(result.rows[0]).toEqual({ n: '2502', lo: '1', hi: '2502' });
    } finally {
      await admin.end();
    }
  });
});

describe('PostgresThreadStore connection loss', () => {
  it('survives a checked-out connection terminated between statements', async () => {
    const url = await server.createDatabase();
    const store = await open(url);
    await store.searchIndexBuild;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // A connection pinned across statements (as a transaction or the search-index build
      // holds one) is killed by the server while idle: pg reports it as an 'error' event on
      // the client, which must not become an uncaught exception.
      const failure = await store.db
        .connection()
        .execute(async (conn) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
          await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await sql`select 1`.execute(conn);
        })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Error);
    } finally {
      await admin.end();
    }
    // The pool dropped the dead client: the store goes on.
    await record(store, 'after the connection loss');
    expect((await store.listThreads({ pageSize: 5 })).items.map((t) => t.preview)).toEqual([
      'after the connection loss',
    ]);
  });
});

describe('PostgresThreadStore live writers in one process', () => {
  it('refuses the second of two concurrent creates of one thread', async () => {
    const store = await open(await server.createDatabase());
    const params = createThreadParams('/work/project');
    const results = await Promise.allSettled([
      store.createThread(params),
      store.createThread(params),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason.code).toBe('InvalidRequest');
    expect(rejected.reason.message).toContain('already has a live writer');
  });
});

describe('PostgresThreadStore listing visibility', () => {
  it('hides threads nobody has written a message to, as Codex lists do', async () => {
    const store = await open(await server.createDatabase());
    const silent = createThreadParams('/work/project');
    await store.createThread(silent);
    await store.persistThread(silent.threadId);
    const spoken = await record(store, 'spoken');
    expect((await store.listThreads({ pageSize: 10 })).items.map((t) => t.threadId)).toEqual([
      spoken,
    ]);
    // Still readable by id, just not listed; a first message makes it visible.
    expect((await store.readThread({ threadId: silent.threadId })).preview).toBe('');
    const patched = await store.updateThreadMetadata({
      threadId: silent.threadId,
      patch: { firstUserMessage: 'now spoken' },
    });
    expect(patched.preview).toBe('now spoken');
    const listed = await store.listThreads({ pageSize: 10 });
    expect(listed.items.map((t) => t.threadId).sort()).toEqual([silent.threadId, spoken].sort());
  });
});

describe('PostgresThreadStore search', () => {
  it('finds threads by the content of their messages, pages them, and snips the match', async () => {
    const store = await open(await server.createDatabase());
    const ids: ThreadId[] = [];
    for (let index = 0; index < 3; index += 1) {
      const threadId = await record(store, `question ${index}`);
      await store.appendItems({
        threadId,
        items: [
          userMessageItem(
            `the ${index === 1 ? 'kiwi' : 'plain'} import log shows needle-${index} twice`,
          ),
        ],
      });
      ids.push(threadId);
    }
    const other = await record(store, 'unrelated words only');

    const kiwi = await store.searchThreads({ pageSize: 10, searchTerm: 'kiwi import' });
    expect(kiwi.items.map((r) => r.thread.threadId)).toEqual([ids[1]]);
    expect(kiwi.items[0]?.snippet).toContain('kiwi import log');
    expect(kiwi.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const result = await store.searchThreads({ pageSize: 2, cursor, searchTerm: 'needle-' });
      seen.push(...result.items.map((r) => r.thread.threadId));
      cursor = result.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([...ids].reverse());
    expect(seen).not.toContain(other);
    // JSON keys and kinds are not content.
    expect((await store.searchThreads({ pageSize: 10, searchTerm: 'user_message' })).items).toEqual(
      [],
    );
    await expectThreadStoreError(
      store.searchThreads({ pageSize: 10, searchTerm: '' }),
      'InvalidRequest',
      'thread/search requires search_term',
    );
  });
});
