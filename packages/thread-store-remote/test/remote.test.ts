/** The gRPC transport itself: error round trips, stock (v2-only) peers, refused path operations. */
import * as grpc from '@grpc/grpc-js';
import { newThreadId } from '@skein/state';
import { type PostgresServer, startPostgres } from '@skein/test-support';
import { type ThreadStore, ThreadStoreError } from '@skein/thread-store';
import {
  createThreadParams,
  expectThreadStoreError,
  userMessageItem,
} from '@skein/thread-store/testing';
import { PostgresThreadStore } from '@skein/thread-store-postgres';
import { MIGRATED_STORE_TEMPLATE } from '@skein/thread-store-postgres/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fromServiceError,
  isGrpcStoreSpec,
  openRemoteThreadStore,
  RemoteThreadStore,
  serveThreadStore,
  type ThreadStoreServer,
  threadStoreService,
} from '../src/index.js';

let postgres: PostgresServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await postgres?.stop();
});

async function pgBehindServer(): Promise<{
  url: string;
  backing: PostgresThreadStore;
  server: ThreadStoreServer;
  client: RemoteThreadStore;
}> {
  const url = await postgres.cloneDatabase(MIGRATED_STORE_TEMPLATE);
  const backing = await PostgresThreadStore.open({ connectionString: url });
  const server = await serveThreadStore(backing, '127.0.0.1:0');
  const client = new RemoteThreadStore(server.address);
  cleanups.push(
    () => backing.close(),
    () => server.close(),
    () => client.close(),
  );
  return { url, backing, server, client };
}

/** The error a call rejects with. */
async function failure(promise: Promise<unknown>): Promise<ThreadStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ThreadStoreError);
    return error as ThreadStoreError;
  }
  throw new Error('expected the call to reject');
}

/** Calls a method of the generated client with a raw message (a stock v2 peer). */
function rawCall<T>(client: grpc.Client, method: string, request: unknown): Promise<T> {
  type RawMethod = (
    request: unknown,
    callback: (error: grpc.ServiceError | null, response: T) => void,
  ) => void;
  const fn = (client as unknown as Record<string, RawMethod>)[method]!;
  return new Promise<T>((resolve, reject) => {
    fn.call(client, request, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

describe('RemoteThreadStore over gRPC', () => {
  it('returns the same error code and message as the store behind the server', async () => {
    const { backing, client } = await pgBehindServer();
    const unknown = newThreadId();
    const params = createThreadParams('/work/p');
    await backing.createThread(params);
    await backing.persistThread(params.threadId);
    await backing.shutdownThread(params.threadId);
    await backing.archiveThread({ threadId: params.threadId });
    const paginated = createThreadParams('/work/p', { historyMode: 'paginated' });

    const calls: Array<[string, (store: ThreadStore) => Promise<unknown>]> = [
      ['ThreadNotFound', (store) => store.readThread({ threadId: unknown })],
      ['ThreadNotFound', (store) => store.listTurns({ threadId: unknown, pageSize: 5 })],
      ['InvalidRequest', (store) => store.listThreads({ pageSize: 5, cursor: 'nope' })],
      ['InvalidRequest', (store) => store.listTurns({ threadId: params.threadId, pageSize: 5 })],
      ['InvalidRequest', (store) => store.listItems({ threadId: params.threadId, pageSize: 5 })],
      [
        'InvalidRequest',
        (store) =>
          store.listItems({
            threadId: params.threadId,
            includeArchived: true,
            pageSize: 5,
            cursor: 'nope',
          }),
      ],
      ['Conflict', (store) => store.createThread(params)],
      ['Unsupported', (store) => store.createThread(paginated)],
    ];
    for (const [code, call] of calls) {
      const direct = await failure(call(backing));
      const remote = await failure(call(client));
      expect(direct.code).toBe(code);
      expect(remote.code).toBe(code);
      expect(remote.message).toBe(direct.message);
      expect(remote.detail).toBe(direct.detail);
    }
    const unsupported = await failure(client.createThread(paginated));
    expect(unsupported.operation).toBe('paginated_threads');
    const notFound = await failure(client.readThread({ threadId: unknown }));
    expect(notFound.threadId).toBe(unknown);
  });

  it('reports a failing backing database as Internal', async () => {
    const { url, client } = await pgBehindServer();
    const database = url.slice(url.lastIndexOf('/') + 1);
    postgres.psql(`DROP DATABASE ${database} WITH (FORCE)`);
    const error = await failure(client.listThreads({ pageSize: 5 }));
    expect(error.code).toBe('Internal');
    expect(error.message).toMatch(/^thread-store internal error: /);
  });

  it('refuses rollout-path operations with InvalidRequest, client and server side', async () => {
    const { client, server } = await pgBehindServer();
    await expectThreadStoreError(
      client.readThreadByRolloutPath({ rolloutPath: '/home/u/.codex/sessions/x.jsonl' }),
      'InvalidRequest',
      'read_thread_by_rollout_path',
    );
    const threadId = newThreadId();
    await expectThreadStoreError(
      client.resumeThread({
        threadId,
        rolloutPath: '/somewhere/rollout.jsonl',
        metadata: { cwd: '/w', modelProvider: 'p', memoryMode: 'enabled' },
      }),
      'InvalidRequest',
      'rollout paths',
    );
    const Raw = threadStoreService();
    const raw = new Raw(server.address, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const error = await rawCall(raw, 'ResumeThread', {
      thread_id: threadId,
      rollout_path: '/somewhere/rollout.jsonl',
    }).catch((e: grpc.ServiceError) => e);
    expect((error as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('serves a stock v2 client that sends none of the Skein fields', async () => {
    const { server, client } = await pgBehindServer();
    const Raw = threadStoreService();
    const raw = new Raw(server.address, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const threadId = newThreadId();
    await rawCall(raw, 'CreateThread', {
      thread_id: threadId,
      source: { kind: 'SESSION_SOURCE_KIND_VSCODE' },
      base_instructions_json: '{"text":"be brief"}',
      metadata_json: JSON.stringify({
        cwd: '/work/v2',
        model_provider: 'openai',
        memory_mode: 'enabled',
      }),
    });
    await rawCall(raw, 'PersistThread', { thread_id: threadId });
    await rawCall(raw, 'AppendItems', {
      thread_id: threadId,
      items_json: [JSON.stringify(userMessageItem('hello from v2'))],
    });
    const updated = await rawCall<{ thread: Record<string, unknown> }>(
      raw,
      'UpdateThreadMetadata',
      {
        thread_id: threadId,
        patch: {
          name: 'v2 name',
          git_info: { branch: { kind: 'OPTIONAL_STRING_PATCH_KIND_SET', value: 'main' } },
        },
      },
    );
    expect(updated.thread).toMatchObject({
      thread_id: threadId,
      name: 'v2 name',
      cwd: '/work/v2',
      model_provider: 'openai',
      source: { kind: 'SESSION_SOURCE_KIND_VSCODE' },
      git_info: { branch: 'main' },
    });
    expect(typeof updated.thread.created_at).toBe('number');
    expect(Math.abs((updated.thread.created_at as number) - Date.now() / 1000)).toBeLessThan(120);

    // Metadata derived from history comes from the writer's side (LiveThread), here a Skein
    // client; lists hide threads without it, as Codex's do.
    await client.updateThreadMetadata({
      threadId,
      patch: { firstUserMessage: 'hello from v2', preview: 'hello from v2' },
    });
    const listed = await rawCall<{ threads: Array<{ thread_id: string }> }>(raw, 'ListThreads', {
      page_size: 10,
      sort_direction: 'SORT_DIRECTION_DESC',
      cwd_filter: { values: ['/work/v2'] },
    });
    expect(listed.threads.map((t) => t.thread_id)).toEqual([threadId]);

    const history = await rawCall<{ items_json: string[] }>(raw, 'LoadHistory', {
      thread_id: threadId,
    });
    expect(history.items_json.map((text) => JSON.parse(text).type)).toEqual([
      'session_meta',
      'event_msg',
    ]);
    // A Skein client reads what the stock client wrote.
    const thread = await client.readThread({ threadId });
    expect(thread).toMatchObject({
      name: 'v2 name',
      source: 'vscode',
      gitInfo: { branch: 'main' },
    });

    const missing = await rawCall(raw, 'ReadThread', { thread_id: newThreadId() }).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });

  it('maps bare statuses of a stock server the way Codex does', () => {
    const threadId = newThreadId();
    const bare = (code: grpc.status, details: string) =>
      fromServiceError({ code, details, metadata: new grpc.Metadata() }, threadId);
    expect(bare(grpc.status.NOT_FOUND, 'gone').message).toBe(`thread ${threadId} not found`);
    expect(bare(grpc.status.INVALID_ARGUMENT, 'bad').message).toBe(
      'invalid thread-store request: bad',
    );
    for (const code of [
      grpc.status.ALREADY_EXISTS,
      grpc.status.FAILED_PRECONDITION,
      grpc.status.ABORTED,
    ]) {
      expect(bare(code, 'busy').code).toBe('Conflict');
    }
    expect(bare(grpc.status.DATA_LOSS, 'x').message).toBe(
      'thread-store internal error: remote thread store request failed: DATA_LOSS: x',
    );
  });

  it('reports an unreachable server as Internal', async () => {
    const { server } = await pgBehindServer();
    const address = server.address;
    await server.close();
    const client = new RemoteThreadStore(address, { callTimeoutMs: 5_000 });
    cleanups.push(() => client.close());
    const error = await failure(client.listThreads({ pageSize: 1 }));
    expect(error.code).toBe('Internal');
    expect(error.message).toContain('failed to connect to remote thread store');
  });

  it('opens a grpc:// spec and refuses any other', async () => {
    const { server } = await pgBehindServer();
    expect(isGrpcStoreSpec(`grpc://${server.address}`)).toBe(true);
    expect(isGrpcStoreSpec('postgres://u@127.0.0.1/db')).toBe(false);
    for (const spec of ['grpc://no-port', '/tmp/some-home', 'postgres://u@127.0.0.1/db']) {
      expect(() => openRemoteThreadStore(spec)).toThrow(`invalid grpc store address: ${spec}`);
    }
    const client = openRemoteThreadStore(`grpc://${server.address}/`);
    cleanups.push(async () => client.close());
    expect(await client.listThreads({ pageSize: 1 })).toEqual({
      items: [],
      nextCursor: null,
      backwardsCursor: null,
    });
  });
});

describe('RemoteThreadStore JSON-carried calls', () => {
  it('searches thread content through the server', async () => {
    const { backing, client } = await pgBehindServer();
    const params = createThreadParams('/work/p');
    await backing.createThread(params);
    await backing.appendItems({
      threadId: params.threadId,
      items: [userMessageItem('find the walrus in the logs')],
    });
    await backing.persistThread(params.threadId);
    await backing.updateThreadMetadata({
      threadId: params.threadId,
      patch: { preview: 'walrus hunt', firstUserMessage: 'find the walrus in the logs' },
    });
    const page = await client.searchThreads({ pageSize: 5, searchTerm: 'walrus' });
    expect(page.items.map((r) => r.thread.threadId)).toEqual([params.threadId]);
    expect(page.items[0]?.snippet).toContain('walrus');
    await expectThreadStoreError(
      client.searchThreads({ pageSize: 5, searchTerm: '' }),
      'InvalidRequest',
      'requires search_term',
    );
  });
});

describe('fromServiceError', () => {
  it('keeps the gRPC error as the cause of an Internal error', () => {
    for (const code of [
      grpc.status.UNAVAILABLE,
      grpc.status.UNAUTHENTICATED,
      grpc.status.DATA_LOSS,
    ]) {
      const service = Object.assign(new Error('boom'), {
        code,
        details: 'boom',
        metadata: new grpc.Metadata(),
      });
      const error = fromServiceError(service);
      expect([error.code, error.cause]).toEqual(['Internal', service]);
    }
  });
});
