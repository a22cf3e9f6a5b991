/**
 * Size attacks on the built app-server: every user-supplied size is bounded with a clear
 * error, and the server keeps serving the same connection (stdio) or new ones (websocket):
 * messages over 16 MiB on both transports, names over 16 KiB, nesting deeper than 128, more
 * than 10,000 injected items or one over 1 MiB. Names at the bound leave lists of other
 * threads fast.
 */
import { once } from 'node:events';
import {
  installFixtureHome,
  JsonRpcChild,
  type RpcMessage,
  recordFigures,
  removeTempDir,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SKEIN_MAIN } from './support/differential.js';
import { isListening, startListening } from './support/ws-listener.js';

const MIB = 1024 * 1024;
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

const userItem = (text: string) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});

function nested(depth: number): string {
  return `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
}

describe('size bounds', () => {
  it('stdio: oversized lines, names, nesting and injects are refused clearly; the connection goes on', async () => {
    const started = Date.now();
    const { home, manifest } = installFixtureHome('codex-0.131');
    homes.push(home);
    const [target, ...others] = manifest.threads.filter((t) => t.persisted && !t.archived);
    const server = new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
      env: { ...process.env, CODEX_HOME: home },
      cwd: home,
    });
    await server.initialize();
    const refusals: Record<string, string> = {};
    const refused = async (label: string, id: string | number) => {
      const answer: RpcMessage = await server.answer(id, 60_000);
      refusals[label] =
        answer.error?.message ?? `accepted: ${JSON.stringify(answer.result).slice(0, 80)}`;
      return answer;
    };
    const stdin = server.child.stdin!;
    const writeLine = async (text: string) => {
      if (!stdin.write(`${text}\n`)) await once(stdin, 'drain');
    };

    // A 17 MiB request (id first): answered with the bound; a 17 MiB line with no id: dropped.
    await writeLine(
      JSON.stringify({
        id: 'big',
        method: 'thread/name/set',
        params: { threadId: target!.id, name: 'n'.repeat(17 * MIB) },
      }),
    );
    await refused('17 MiB message', 'big');
    await writeLine('x'.repeat(17 * MIB));
    // A 10 MB name fits in a message and is refused by the name bound.
    await refused(
      '10 MB name',
      server.send('thread/name/set', { threadId: target!.id, name: 'n'.repeat(10_000_000) }),
    );
    // Nesting: 129 levels refused, 100 accepted (and written, and read back).
    await server.request('thread/resume', { threadId: target!.id });
    server.writeRaw(
      `{"id":"deep","method":"thread/inject_items","params":{"threadId":"${target!.id}","items":[{"type":"message","role":"user","content":${nested(129)}}]}}`,
    );
    await refused('129-deep item', 'deep');
    server.writeRaw(
      `{"id":"ok-deep","method":"thread/inject_items","params":{"threadId":"${target!.id}","items":[{"type":"message","role":"user","content":${nested(100)}}]}}`,
    );
    const okDeep = await server.answer('ok-deep');
    expect(okDeep.error).toBeUndefined();
    // Injects: 10,001 items, and one item over 1 MiB.
    const many = Array.from({ length: 10_001 }, (_, i) => userItem(`item ${i}`));
    await refused(
      '10,001 items',
      server.send('thread/inject_items', { threadId: target!.id, items: many }),
    );
    await refused(
      '1 MiB + item',
      server.send('thread/inject_items', {
        threadId: target!.id,
        items: [userItem('x'.repeat(MIB))],
      }),
    );
    const atBound = await server.answer(
      server.send('thread/inject_items', { threadId: target!.id, items: many.slice(0, 10_000) }),
      60_000,
    );
    expect(atBound.error).toBeUndefined();

    // Names at the bound on five threads: reads and lists of the others stay fast.
    for (const other of others.slice(0, 5)) {
      await server.request('thread/name/set', { threadId: other.id, name: 'm'.repeat(16 * 1024) });
    }
    const listStarted = Date.now();
    await server.request('thread/list', { limit: 50 });
    const listMs = Date.now() - listStarted;
    const readStarted = Date.now();
    await server.request('thread/read', { threadId: target!.id });
    const readMs = Date.now() - readStarted;
    // The same connection is still served, and the thread still reads.
    const read = await server.request<{ thread: { id: string } }>('thread/read', {
      threadId: target!.id,
      includeTurns: true,
    });
    await server.stop();
    recordFigures(
      'bounds over stdio: message, name, nesting, inject count and size',
      {
        attacks: Object.keys(refusals).length,
        refused: Object.values(refusals).filter((m) => !m.startsWith('accepted')).length,
        'list ms (5 names at the bound)': listMs,
        'read ms': readMs,
      },
      started,
    );
    expect(refusals).toEqual({
      '17 MiB message': expect.stringMatching(/message larger than 16777216 bytes/),
      '10 MB name': expect.stringMatching(/thread name must be at most 16384 bytes/),
      '129-deep item': expect.stringMatching(/nesting deeper than 128 levels/),
      '10,001 items': expect.stringMatching(/at most 10000 items/),
      '1 MiB + item': expect.stringMatching(/must be at most 1048576 bytes/),
    });
    expect(read.thread.id).toBe(target!.id);
    expect(server.stderr).not.toMatch(/\n\s+at /);
    // Still answering, not stuck on what was refused (the figures above say how fast).
    expect(listMs).toBeLessThan(15_000);
    expect(readMs).toBeLessThan(15_000);
  });

  it('websocket: a message over 16 MiB closes that connection with 1009; the server serves the next', async () => {
    const started = Date.now();
    const { home } = installFixtureHome('codex-0.169');
    homes.push(home);
    const listening = await startListening(
      process.execPath,
      [SKEIN_MAIN, '--listen', 'ws://127.0.0.1:0'],
      { ...process.env, CODEX_HOME: home },
    );
    if (!isListening(listening)) throw new Error(`server refused to start: ${listening.stderr}`);
    try {
      const first = new WebSocket(listening.url);
      await once(first, 'open');
      const closed = once(first, 'close');
      first.send(
        JSON.stringify({ id: 1, method: 'thread/list', params: { cursor: 'c'.repeat(17 * MIB) } }),
      );
      const [code, reason] = (await closed) as [number, Buffer];
      const second = new WebSocket(listening.url);
      await once(second, 'open');
      const answered = new Promise<RpcMessage>((resolve) =>
        second.on('message', (data) => resolve(JSON.parse(String(data)) as RpcMessage)),
      );
      second.send(
        JSON.stringify({
          id: 2,
          method: 'initialize',
          params: { clientInfo: { name: 'limits', version: '1' } },
        }),
      );
      const init = await answered;
      second.close();
      recordFigures(
        'bounds over websocket: 17 MiB message',
        { 'close code': code, 'next connection served': init.result ? 'yes' : 'NO' },
        started,
      );
      expect(code).toBe(1009);
      expect(String(reason)).toMatch(/larger than 16777216 bytes/);
      expect(init.result).toBeDefined();
    } finally {
      await listening.stop();
    }
  });
});
