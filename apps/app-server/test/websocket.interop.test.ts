/**
 * The built server over `--listen ws://127.0.0.1:0` with two real websocket connections on a
 * copy of the 0.169 fixture home: broadcast notifications reach both, request-scoped ones
 * (deprecationNotice) only the caller, and a closed connection unsubscribes (idle unload ⇒
 * `thread/status/changed notLoaded` then `thread/closed` to the other one). Messages are
 * validated against codex's JSON schema.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { SKEIN_MAIN } from './support/differential.js';
import { codexSchema } from './support/schema.js';

const schema = codexSchema(inject('codexSchemaDir'));
type Message = Record<string, unknown>;

class WsClient {
  readonly received: Message[] = [];
  readonly methods = new Map<string, string>();
  #nextId = 1;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.received.push(JSON.parse(data.toString()) as Message));
  }

  static async connect(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new WsClient(socket);
  }

  async waitFor(predicate: (m: Message) => boolean, what: string): Promise<Message> {
    for (let i = 0; i < 500; i += 1) {
      const found = this.received.find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(
      `timed out waiting for ${what}; got ${JSON.stringify(this.received).slice(0, 800)}`,
    );
  }

  async request(method: string, params: unknown): Promise<Message> {
    const id = this.#nextId++;
    this.methods.set(String(id), method);
    this.socket.send(JSON.stringify({ id, method, params }));
    return this.waitFor((m) => m.id === id && !('method' in m), `answer ${id}`);
  }

  notifications(method: string): Message[] {
    return this.received.filter((m) => m.method === method);
  }

  validate(): void {
    for (const message of this.received) {
      if (typeof message.method === 'string') schema.notification(message);
      else schema.response(this.methods.get(String(message.id)) ?? 'unknown', message);
    }
  }
}

describe('websocket transport', () => {
  let server: ChildProcess;
  let home: string;
  let url: string;
  let paginatedThreadId: string;

  beforeAll(async () => {
    const installed = installFixtureHome('codex-0.169');
    home = installed.home;
    const paginated = installed.manifest.threads.find(
      (t) => t.persisted && !t.archived && t.turnCount > 0,
    );
    if (paginated === undefined) throw new Error('fixture lacks a persisted thread');
    paginatedThreadId = paginated.id;
    writeFileSync(join(home, 'config.toml'), 'thread_unload_delay_secs = 0\n');
    server = spawn(process.execPath, [SKEIN_MAIN, '--listen', 'ws://127.0.0.1:0'], {
      env: { ...process.env, CODEX_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`server did not listen: ${text}`)), 30_000);
      server.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on (ws:\/\/\S+)/.exec(text);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
  });

  afterAll(async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    removeTempDir(home);
  });

  it('listens on loopback only', () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('broadcasts thread notifications, scopes request notices, and unloads on disconnect', async () => {
    const a = await WsClient.connect(url);
    const b = await WsClient.connect(url);
    expect((await a.request('thread/list', {})).error).toEqual({
      code: -32600,
      message: 'Not initialized',
    });
    await a.request('initialize', { clientInfo: { name: 'ws_a', version: '1' } });
    await b.request('initialize', { clientInfo: { name: 'ws_b', version: '1' } });

    const start = await a.request('thread/start', { cwd: home });
    const threadId = (start.result as { thread: { id: string } }).thread.id;
    for (const client of [a, b]) {
      await client.waitFor((m) => m.method === 'thread/started', 'thread/started');
    }

    await b.request('thread/name/set', { threadId, name: 'Shared' });
    for (const client of [a, b]) {
      const updated = await client.waitFor(
        (m) => m.method === 'thread/name/updated',
        'name/updated',
      );
      expect(updated.params).toEqual({ threadId, threadName: 'Shared' });
    }

    // A deprecation notice belongs to the request that caused it.
    await b.request('thread/read', { threadId: paginatedThreadId, includeTurns: true });
    expect(b.notifications('deprecationNotice')).toHaveLength(1);
    expect(a.notifications('deprecationNotice')).toHaveLength(0);

    // B is not subscribed; A is. A disconnecting leaves the thread without subscribers.
    expect((await b.request('thread/unsubscribe', { threadId })).result).toEqual({
      status: 'notSubscribed',
    });
    a.socket.close();
    const closed = await b.waitFor((m) => m.method === 'thread/closed', 'thread/closed');
    expect(closed.params).toEqual({ threadId });
    const tail = b.received.filter(
      (m) => m.method === 'thread/status/changed' || m.method === 'thread/closed',
    );
    expect(tail.map((m) => [m.method, m.params])).toEqual([
      ['thread/status/changed', { threadId, status: { type: 'notLoaded' } }],
      ['thread/closed', { threadId }],
    ]);
    expect((await b.request('thread/loaded/list', {})).result).toEqual({
      data: [],
      nextCursor: null,
    });
    b.validate();
    a.validate();
    b.socket.close();
  });
});
