/**
 * The JSON-RPC fuzzer over both transports of the built app-server (a copy of a real Codex
 * 0.169 home behind it): garbage, JSON that is no message, wrong types, missing and extra
 * fields, huge params, deep nesting, odd ids, notifications and stray responses, pipelined.
 * Every request must be answered, no answer may be an internal error, and the server must be
 * alive and serving at the end.
 */
import { once } from 'node:events';
import {
  budget,
  installFixtureHome,
  JsonRpcChild,
  Rng,
  type RpcMessage,
  recordFigures,
  removeTempDir,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fuzzMessage } from './reliability/fuzz.js';
import { SKEIN_MAIN } from './support/differential.js';
import { isListening, startListening } from './support/ws-listener.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

interface Tally {
  messages: number;
  requests: number;
  answered: number;
  errorsByCode: Map<number, number>;
  internal: string[];
}

function newTally(): Tally {
  return { messages: 0, requests: 0, answered: 0, errorsByCode: new Map(), internal: [] };
}

function count(tally: Tally, answer: RpcMessage): void {
  tally.answered += 1;
  const code = answer.error?.code;
  if (code === undefined) return;
  tally.errorsByCode.set(code, (tally.errorsByCode.get(code) ?? 0) + 1);
  if (code === -32603 && tally.internal.length < 10) tally.internal.push(answer.error!.message);
}

function codes(tally: Tally): string {
  return [...tally.errorsByCode.entries()]
    .sort(([a], [b]) => a - b)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
}

function fixtureHome() {
  const { home, manifest } = installFixtureHome('codex-0.169');
  homes.push(home);
  return { home, threadIds: manifest.threads.map((t) => t.id) };
}

describe('JSON-RPC fuzzer', () => {
  it('stdio: every request answered, none an internal error, the server alive', async () => {
    const started = Date.now();
    const rng = new Rng();
    const total = budget(3_000, 100_000);
    const { home, threadIds } = fixtureHome();
    const server = new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
      env: { ...process.env, CODEX_HOME: home },
      cwd: home,
    });
    await server.initialize(true);
    const tally = newTally();
    const expected: (string | number)[] = [];
    const stdin = server.child.stdin!;
    for (let n = 0; n < total; n += 1) {
      const message = fuzzMessage(rng, n, { threadIds, hugeBytes: 4 * 1024 * 1024 });
      tally.messages += 1;
      if (message.expectId !== undefined) {
        expected.push(message.expectId);
        tally.requests += 1;
      }
      if (!server.writeRaw(message.text)) await once(stdin, 'drain');
      // Keep at most a few hundred requests queued (the server answers one at a time).
      if (expected.length - server.answers.size > 200) {
        await server.answer(expected[expected.length - 150], 60_000).catch(() => undefined);
      }
    }
    let unanswered = 0;
    for (const id of expected) {
      const answer = await server.answer(id, 60_000).catch(() => null);
      if (answer === null) unanswered += 1;
      else count(tally, answer);
    }
    const alive = await server.request('thread/loaded/list', {}).then(
      () => true,
      (error: Error) => {
        console.log(`final request failed: ${error.message.slice(0, 2000)}`);
        return false;
      },
    );
    await server.stop();
    const stackTraces = (server.stderr.match(/\n\s+at /g) ?? []).length;
    recordFigures(
      'fuzz: JSON-RPC over stdio',
      {
        messages: tally.messages,
        requests: tally.requests,
        answered: tally.answered,
        unanswered,
        'internal errors': tally.internal.length,
        'stack trace lines': stackTraces,
        'error codes': codes(tally),
        alive: alive ? 'yes' : 'NO',
        seed: rng.seed,
      },
      started,
    );
    expect(unanswered).toBe(0);
    expect(tally.internal).toEqual([]);
    expect(alive).toBe(true);
  });

  it('websocket: every request answered, none an internal error, the server alive', async () => {
    const started = Date.now();
    const rng = new Rng();
    const total = budget(2_000, 100_000);
    const { home, threadIds } = fixtureHome();
    const listening = await startListening(
      process.execPath,
      [SKEIN_MAIN, '--listen', 'ws://127.0.0.1:0'],
      { ...process.env, CODEX_HOME: home },
    );
    if (!isListening(listening)) throw new Error(`server refused to start: ${listening.stderr}`);
    const tally = newTally();
    let unanswered = 0;
    let connections = 0;
    const socketAnswers = new Map<string, RpcMessage>();
    const connect = async () => {
      connections += 1;
      const socket = new WebSocket(listening.url);
      socket.on('message', (data) => {
        try {
          const message = JSON.parse(String(data)) as RpcMessage;
          if (message.method === undefined)
            socketAnswers.set(JSON.stringify(message.id ?? null), message);
        } catch {
          // not JSON: counted as no answer
        }
      });
      await once(socket, 'open');
      socket.send(
        JSON.stringify({
          id: 'init',
          method: 'initialize',
          params: {
            clientInfo: { name: 'fuzz', version: '1' },
            capabilities: { experimentalApi: true },
          },
        }),
      );
      return socket;
    };
    const waitFor = async (key: string, socket: WebSocket, ms: number) => {
      for (let waited = 0; waited < ms; waited += 20) {
        if (socketAnswers.has(key) || socket.readyState !== WebSocket.OPEN) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const socket = await connect();
    await waitFor(JSON.stringify('init'), socket, 10_000);
    let batch: (string | number)[] = [];
    const settle = async () => {
      const last = batch.at(-1);
      if (last !== undefined) await waitFor(JSON.stringify(last), socket, 60_000);
      for (const id of batch) {
        const answer = socketAnswers.get(JSON.stringify(id));
        if (answer === undefined) unanswered += 1;
        else count(tally, answer);
      }
      batch = [];
      socketAnswers.clear();
    };
    for (let n = 0; n < total; n += 1) {
      const message = fuzzMessage(rng, n, { threadIds, hugeBytes: 4 * 1024 * 1024 });
      tally.messages += 1;
      if (message.expectId !== undefined) {
        batch.push(message.expectId);
        tally.requests += 1;
      }
      socket.send(message.text);
      if (batch.length >= 100) await settle();
    }
    await settle();
    // The connection and the server are still there and serving.
    socket.send(JSON.stringify({ id: 'last', method: 'thread/loaded/list', params: {} }));
    await waitFor(JSON.stringify('last'), socket, 10_000);
    const alive = socketAnswers.has(JSON.stringify('last'));
    socket.close();
    await listening.stop();
    recordFigures(
      'fuzz: JSON-RPC over websocket',
      {
        messages: tally.messages,
        requests: tally.requests,
        answered: tally.answered,
        unanswered,
        connections,
        'internal errors': tally.internal.length,
        'error codes': codes(tally),
        alive: alive ? 'yes' : 'NO',
        seed: rng.seed,
      },
      started,
    );
    expect(unanswered).toBe(0);
    expect(tally.internal).toEqual([]);
    expect(alive).toBe(true);
  });
});
