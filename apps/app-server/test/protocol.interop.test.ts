/**
 * The JSON-RPC layer against what codex-cli 0.169.0 answers (spec §0, A.1, A.23): handshake,
 * request-shape errors in serde's words, experimental gating, opt-outs, and that bad input
 * never stops the server. Every answer and notification is validated against the real
 * binary's JSON schema.
 */

import { CODEX_CLIENT_METHODS } from '@skein/app-server-protocol';
import { initStateDb } from '@skein/rollout';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { LocalThreadStore } from '@skein/thread-store';
import { userMessageItem } from '@skein/thread-store/testing';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { inProcessServer, type TestClient } from './support/in-process.js';
import { codexSchema, validateReceived } from './support/schema.js';

const schema = codexSchema(inject('codexSchemaDir'));
const clients: TestClient[] = [];

function track(client: TestClient): TestClient {
  clients.push(client);
  return client;
}

afterEach(() => {
  for (const client of clients.splice(0)) {
    expect(validateReceived(schema, client.received, client.methods)).toBeGreaterThanOrEqual(0);
  }
});

afterAll(() => {
  // The schema check really ran over the answers and notifications above.
  expect(schema.checked).toBeGreaterThan(40);
});

function errorOf(message: Record<string, unknown>): { code: number; message: string } {
  expect(message).toHaveProperty('error');
  return message.error as { code: number; message: string };
}

describe('handshake', () => {
  it('refuses requests before initialize and a second initialize', async () => {
    const client = track(inProcessServer().client());
    expect(errorOf(await client.request('thread/list', {}))).toEqual({
      code: -32600,
      message: 'Not initialized',
    });
    const init = await client.initialize();
    expect(init.result).toMatchObject({
      codexHome: '/tmp/skein-test-home',
      platformFamily: 'unix',
    });
    expect((init.result as { userAgent: string }).userAgent).toMatch(/^test_client\//);
    expect(
      errorOf(await client.request('initialize', { clientInfo: { name: 'x', version: '1' } })),
    ).toEqual({
      code: -32600,
      message: 'Already initialized',
    });
    expect(errorOf(await client.request('initialize', {}))).toEqual({
      code: -32600,
      message: 'Invalid request: missing field `clientInfo`',
    });
  });

  it('never writes a jsonrpc member, and stamps notifications with an integer emittedAtMs', async () => {
    const client = track(inProcessServer().client());
    await client.initialize();
    await client.request('thread/start', { cwd: '/tmp/a' });
    for (const message of client.received) expect(message).not.toHaveProperty('jsonrpc');
    const started = client.notifications('thread/started');
    expect(started).toHaveLength(1);
    expect(Number.isInteger(started[0]?.emittedAtMs)).toBe(true);
  });
});

describe('request-shape errors (A.23, captured from 0.169.0)', () => {
  const cases: [string, unknown, string][] = [
    [
      'thread/read',
      { threadId: 5 },
      'Invalid request: invalid type: integer `5`, expected a string',
    ],
    ['thread/list', { limit: -1 }, 'Invalid request: invalid value: integer `-1`, expected u32'],
    ['thread/list', { limit: 'x' }, 'Invalid request: invalid type: string "x", expected u32'],
    [
      'thread/list',
      { limit: 1.5 },
      'Invalid request: invalid type: floating point `1.5`, expected u32',
    ],
    [
      'thread/list',
      { limit: 5_000_000_000 },
      'Invalid request: invalid value: integer `5000000000`, expected u32',
    ],
    [
      'thread/list',
      { archived: 'yes' },
      'Invalid request: invalid type: string "yes", expected a boolean',
    ],
    [
      'thread/list',
      { cwd: 5 },
      'Invalid request: data did not match any variant of untagged enum ThreadListCwdFilter',
    ],
    [
      'thread/list',
      { sourceKinds: ['nope'] },
      'Invalid request: unknown variant `nope`, expected one of `cli`, `vscode`, `exec`, `appServer`, `subAgent`, `subAgentReview`, `subAgentCompact`, `subAgentThreadSpawn`, `subAgentOther`, `unknown`',
    ],
    [
      'thread/list',
      { sortDirection: 'up' },
      'Invalid request: unknown variant `up`, expected `asc` or `desc`',
    ],
    [
      'thread/list',
      { sortKey: 'bogus' },
      'Invalid request: unknown variant `bogus`, expected one of `created_at`, `updated_at`, `recency_at`, `section_position`',
    ],
    ['thread/list', null, 'Invalid request: missing field `params`'],
    ['thread/read', {}, 'Invalid request: missing field `threadId`'],
    [
      'thread/name/set',
      { threadId: '01a20154-1916-7c91-82a1-7938e7a77c84' },
      'Invalid request: missing field `name`',
    ],
    [
      'thread/turns/list',
      { threadId: '01a20154-1916-7c91-82a1-7938e7a77c84', itemsView: 'x' },
      'Invalid request: unknown variant `x`, expected one of `notLoaded`, `summary`, `full`',
    ],
    [
      'thread/metadata/update',
      { threadId: '01a20154-1916-7c91-82a1-7938e7a77c84', gitInfo: { sha: 5 } },
      'Invalid request: invalid type: integer `5`, expected a string',
    ],
    [
      'thread/read',
      { threadId: 'bad' },
      'invalid thread id: invalid length: expected length 32 for simple format, found 3',
    ],
    [
      'thread/archive',
      { threadId: 'bad' },
      'invalid session id: invalid length: expected length 32 for simple format, found 3',
    ],
    [
      'thread/list',
      { sortKey: 'section_position' },
      'section-position sorting requires a section filter',
    ],
  ];

  it.each(cases)('%s %j', async (method, params, message) => {
    const client = track(inProcessServer().client());
    await client.initialize();
    const answer = await client.request(method, params === null ? undefined : params);
    expect(errorOf(answer)).toEqual({ code: -32600, message });
  });

  it('checks a thread/loaded/list cursor only when a thread is loaded, as 0.169.0 does', async () => {
    const client = track(inProcessServer().client());
    await client.initialize();
    expect(await client.request('thread/loaded/list', { cursor: 'bad' })).toMatchObject({
      result: { data: [], nextCursor: null },
    });
    await client.request('thread/start', { ephemeral: true });
    expect(errorOf(await client.request('thread/loaded/list', { cursor: 'bad' }))).toEqual({
      code: -32600,
      message: 'invalid cursor: bad',
    });
  });

  it('answers -32602 for the list filters Codex rejects that way', async () => {
    const client = track(inProcessServer().client());
    await client.initialize();
    expect(errorOf(await client.request('thread/list', { originators: ['x'] }))).toEqual({
      code: -32602,
      message: 'originator filtering is not supported by the local app-server',
    });
    expect(errorOf(await client.request('thread/list', { excludedThreadIds: ['nope'] }))).toEqual({
      code: -32602,
      message:
        'invalid excluded thread id: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1',
    });
    const many = Array.from({ length: 101 }, () => '01a20154-1916-7c91-82a1-7938e7a77c84');
    expect(errorOf(await client.request('thread/list', { excludedThreadIds: many }))).toEqual({
      code: -32602,
      message: 'excludedThreadIds accepts at most 100 entries',
    });
  });

  it('refuses projects it does not keep and attached threads without a search term', async () => {
    const client = track(inProcessServer().client());
    await client.initialize({ experimentalApi: true });
    // Skein keeps no projects: any project id names a missing one.
    expect(errorOf(await client.request('thread/list', { projectId: 'no-such-project' }))).toEqual({
      code: -32602,
      message: 'project not found: no-such-project',
    });
    expect(errorOf(await client.request('thread/list', { projectId: '' }))).toEqual({
      code: -32602,
      message: 'projectId must not be empty',
    });
    for (const params of [
      { includeAttachedThreads: true },
      { includeAttachedThreads: true, searchTerm: '  ' },
    ]) {
      expect(errorOf(await client.request('thread/list', params))).toEqual({
        code: -32600,
        message: 'includeAttachedThreads requires a non-empty searchTerm',
      });
    }
    expect(
      await client.request('thread/list', { includeAttachedThreads: true, searchTerm: 'x' }),
    ).toMatchObject({ result: { data: [] } });
  });

  it('answers a read-state update of an unknown thread as 0.169.0 does, on a Codex home', async () => {
    const home = makeTempDir('skein-protocol-home-');
    const stateDb = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
    try {
      const store = new LocalThreadStore(
        { codexHome: home, defaultModelProvider: 'openai' },
        stateDb,
      );
      const client = track(inProcessServer({ store }).client());
      await client.initialize({ experimentalApi: true });
      const unknown = '01a20129-0000-7000-8000-00000000d1ff';
      const answer = await client.request('thread/readState/update', {
        threadId: unknown,
        expectedRevision: 'x',
        operation: { type: 'read' },
      });
      expect(errorOf(answer)).toEqual({ code: -32600, message: `thread not loaded: ${unknown}` });
    } finally {
      await stateDb.close();
      removeTempDir(home);
    }
  });

  it("answers no read state on thread/read for a thread with a client's own source", async () => {
    const client = track(inProcessServer().client());
    await client.initialize({ experimentalApi: true });
    const readStateOfNew = async (threadSource: string) => {
      const started = await client.request('thread/start', { threadSource });
      const id = ((started.result as { thread: { id: string } }).thread as { id: string }).id;
      await client.request('thread/inject_items', {
        threadId: id,
        items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }],
      });
      const read = await client.request('thread/read', { threadId: id });
      return (read.result as { readState: unknown }).readState;
    };
    expect(await readStateOfNew('user')).toMatchObject({ firstUnread: null });
    expect(await readStateOfNew('nightly-digest')).toBeNull();
  });

  it('names every Codex method for an unknown one, and keeps serving after garbage', async () => {
    const client = track(inProcessServer().client());
    await client.initialize();
    await client.raw('{not json');
    await client.raw('[1,2]');
    await client.raw('{"id": 77, "method": 5}');
    await client.raw('{"id": 78}');
    // Codex logs and drops such lines: nothing is answered.
    expect(client.received.filter((m) => m.id === 77 || m.id === 78)).toEqual([]);
    const unknown = errorOf(await client.request('thread/doesNotExist', {}));
    expect(unknown.code).toBe(-32600);
    expect(unknown.message).toBe(
      `Invalid request: unknown variant \`thread/doesNotExist\`, expected one of ${CODEX_CLIENT_METHODS.map((m) => `\`${m}\``).join(', ')}`,
    );
    expect(
      errorOf(await client.request('thread/rollback', { threadId: 'x', numTurns: 1 })).message,
    ).toMatch(
      /^Invalid request: unknown variant `thread\/rollback`, expected one of `initialize`, `server\/diagnostics`/,
    );
    const list = await client.request('thread/list', {});
    expect(list.result).toEqual({
      data: [],
      readStates: {},
      nextCursor: null,
      backwardsCursor: null,
    });
  });

  it('accepts string ids and ignores unknown params keys, as serde does', async () => {
    const client = track(inProcessServer().client());
    await client.initialize();
    await client.raw(
      JSON.stringify({ id: 'str', method: 'thread/loaded/list', params: { bogus: 1 } }),
    );
    expect(client.received.find((m) => m.id === 'str')).toEqual({
      id: 'str',
      result: { data: [], nextCursor: null },
    });
  });
});

describe('experimental gating (§0.3)', () => {
  it('rejects experimental params without the capability and accepts them with it', async () => {
    const server = inProcessServer();
    const plain = track(server.client());
    await plain.initialize();
    expect(errorOf(await plain.request('thread/start', { historyMode: 'legacy' }))).toEqual({
      code: -32600,
      message: 'thread/start.historyMode requires experimentalApi capability',
    });
    const id = '01a20129-3128-7823-bb5b-54778361f393';
    expect(errorOf(await plain.request('thread/list', { parentThreadId: id }))).toEqual({
      code: -32600,
      message: 'thread/list.parentThreadId requires experimentalApi capability',
    });
    expect(
      errorOf(await plain.request('thread/resume', { threadId: id, path: '/x.jsonl' })),
    ).toEqual({
      code: -32600,
      message: 'thread/resume.path requires experimentalApi capability',
    });
    // null counts as absent.
    expect(await plain.request('thread/list', { parentThreadId: null })).toHaveProperty('result');

    const experimental = track(server.client());
    await experimental.initialize({ experimentalApi: true });
    expect(
      await experimental.request('thread/start', { historyMode: 'legacy', cwd: '/tmp' }),
    ).toHaveProperty('result');
    expect(
      errorOf(
        await experimental.request('thread/list', { parentThreadId: id, ancestorThreadId: id }),
      ),
    ).toEqual({
      code: -32600,
      message: 'parentThreadId and ancestorThreadId are mutually exclusive',
    });
  });
});

describe('delivery', () => {
  it('broadcasts thread notifications to every initialized connection, honouring opt-outs', async () => {
    const server = inProcessServer();
    const a = track(server.client());
    const b = track(server.client());
    const optedOut = track(server.client());
    const uninitialized = track(server.client());
    await a.initialize();
    await b.initialize();
    await optedOut.initialize({
      optOutNotificationMethods: ['thread/started', 'thread/name/updated'],
    });
    const start = await a.request('thread/start', { cwd: '/tmp/p' });
    const threadId = (start.result as { thread: { id: string } }).thread.id;
    await b.request('thread/name/set', { threadId, name: '  Shared  ' });
    for (const client of [a, b]) {
      expect(
        client
          .notifications('thread/started')
          .map((m) => (m.params as { thread: { id: string } }).thread.id),
      ).toEqual([threadId]);
      expect(client.notifications('thread/name/updated').map((m) => m.params)).toEqual([
        { threadId, threadName: 'Shared' },
      ]);
    }
    expect(optedOut.notifications()).toEqual([]);
    expect(uninitialized.received).toEqual([]);
    // The start result precedes its thread/started notification (spec §0.4).
    const order = a.received.map((m) =>
      typeof m.method === 'string' ? m.method : `answer:${String(m.id)}`,
    );
    expect(order.indexOf(`answer:${String(start.id)}`)).toBeLessThan(
      order.indexOf('thread/started'),
    );
  });

  it('closing the last subscribed connection unloads the thread: notLoaded then closed', async () => {
    const server = inProcessServer({ idleUnloadDelayMs: 0 });
    const owner = track(server.client());
    const watcher = track(server.client());
    await owner.initialize();
    await watcher.initialize();
    const start = await owner.request('thread/start', { cwd: '/tmp/p' });
    const threadId = (start.result as { thread: { id: string } }).thread.id;
    expect((await watcher.request('thread/unsubscribe', { threadId })).result).toEqual({
      status: 'notSubscribed',
    });
    owner.close();
    for (let i = 0; i < 50 && watcher.notifications('thread/closed').length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(watcher.notifications().map((m) => [m.method, m.params])).toEqual([
      ['thread/started', expect.anything()],
      ['thread/status/changed', { threadId, status: { type: 'notLoaded' } }],
      ['thread/closed', { threadId }],
    ]);
    expect((await watcher.request('thread/loaded/list', {})).result).toEqual({
      data: [],
      nextCursor: null,
    });
    expect((await watcher.request('thread/unsubscribe', { threadId })).result).toEqual({
      status: 'notLoaded',
    });
  });
});

describe('threads Skein creates (0.169.0 answers)', () => {
  it('record 0.169.0 as cliVersion, and fork onto the session provider with the source originator', async () => {
    const server = inProcessServer();
    const client = track(server.client());
    await client.initialize();
    const start = await client.request('thread/start', { cwd: '/tmp/p', modelProvider: 'other' });
    const source = (start.result as { thread: Record<string, unknown> }).thread;
    expect([source.cliVersion, source.modelProvider]).toEqual(['0.169.0', 'other']);
    // The source gets a first message (a fork needs history to copy).
    await server.manager
      .lookupThread(source.id as never)
      ?.recordItems([userMessageItem('fork me')]);
    const forked = await client.request('thread/fork', { threadId: source.id, excludeTurns: true });
    const fork = (forked.result as { thread: Record<string, unknown> }).thread;
    expect([fork.cliVersion, fork.modelProvider, fork.originator]).toEqual([
      '0.169.0',
      'openai',
      source.originator,
    ]);
  });
});
