/**
 * Several processes against one store server backed by PostgreSQL: real server process, real
 * writer processes, real gRPC on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type PostgresServer, startPostgres } from '@skein/test-support';
import type { RolloutItem } from '@skein/thread-store';
import { RemoteThreadStore } from '@skein/thread-store-remote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  firstJsonLine,
  fixture,
  type RunningServer,
  runScript,
  startStoreServer,
} from './helpers.js';

let postgres: PostgresServer;
const servers: RunningServer[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  for (const server of servers) await server.stop();
  await postgres?.stop();
});

async function serverFor(url: string): Promise<RunningServer> {
  const server = await startStoreServer(url);
  servers.push(server);
  return server;
}

function messagesOf(items: readonly RolloutItem[]): string[] {
  return items
    .filter((item) => item.type === 'event_msg')
    .map((item) => (item.payload as { message?: string }).message ?? '');
}

describe('thread-store-server over PostgreSQL', () => {
  it('two writer processes write and list concurrently; nothing is lost or duplicated', async () => {
    const url = await postgres.createDatabase();
    const server = await serverFor(url);
    const threads = 6;
    const items = 40;
    type Summary = { name: string; created?: string[]; listCalls?: number; error?: unknown };
    const [a, b] = await Promise.all([
      runScript<Summary>('writer.mjs', [server.address, 'a', String(threads), String(items), '3']),
      runScript<Summary>('writer.mjs', [server.address, 'b', String(threads), String(items), '5']),
    ]);
    const summaries = [a?.[0], b?.[0]];
    for (const summary of summaries) {
      expect(summary?.error).toBeUndefined();
      expect(summary?.created).toHaveLength(threads);
      expect(summary?.listCalls).toBeGreaterThan(0);
    }

    const client = new RemoteThreadStore(server.address);
    try {
      // Every thread is listed exactly once across pages.
      const listed: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 50; page += 1) {
        const result = await client.listThreads({ pageSize: 5, cursor });
        listed.push(...result.items.map((thread) => thread.threadId));
        cursor = result.nextCursor;
        if (cursor === null) break;
      }
      const created = summaries.flatMap((summary) => summary?.created ?? []);
      expect(new Set(listed).size).toBe(listed.length);
      expect([...listed].sort()).toEqual([...created].sort());

      // Every history holds its own items, each once, in order, after the session meta.
      for (const summary of summaries) {
        for (const threadId of summary?.created ?? []) {
          const history = await client.loadHistory({ threadId: threadId as never });
          expect(history.items[0]?.type).toBe('session_meta');
          expect(messagesOf(history.items)).toEqual(
            Array.from({ length: items }, (_, index) => `${summary?.name}:${threadId}:${index}`),
          );
        }
      }
    } finally {
      client.close();
    }
  });

  it('refuses a second writer to one thread across server processes (writer lease)', async () => {
    const url = await postgres.createDatabase();
    const first = await serverFor(url);
    const second = await serverFor(url);
    const threadId = randomUUID();

    // Process A holds the live writer through server 1.
    const writerA = spawn(
      process.execPath,
      [fixture('lease.mjs'), first.address, 'create', threadId],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const createdA = await firstJsonLine<{ ok: boolean }>(writerA);
    expect(createdA.ok).toBe(true);

    // Process B, through server 2, is refused with Conflict: no interleaving.
    type Outcome = { ok: boolean; code?: string; message?: string };
    const refused = await runScript<Outcome>('lease.mjs', [second.address, 'resume', threadId]);
    expect(refused[0]).toMatchObject({ ok: false, code: 'Conflict' });
    expect(refused[0]?.message).toMatch(/^thread-store conflict: thread .* has a live writer/);

    // A finishes and releases; now B may write.
    const aDone = new Promise((resolve) => writerA.once('exit', resolve));
    writerA.stdin?.end();
    await aDone;
    const accepted = await runScript<Outcome>('lease.mjs', [second.address, 'resume', threadId]);
    expect(accepted[0]).toMatchObject({ ok: true });

    const client = new RemoteThreadStore(first.address);
    try {
      const history = await client.loadHistory({ threadId: threadId as never });
      expect(messagesOf(history.items)).toEqual(['from a', 'a again', 'from b']);
    } finally {
      client.close();
    }
  });

  it('takes over the lease of a store server that was killed', async () => {
    const url = await postgres.createDatabase();
    const doomed = await startStoreServer(url);
    const survivor = await serverFor(url);
    const threadId = randomUUID();
    const writer = spawn(
      process.execPath,
      [fixture('lease.mjs'), doomed.address, 'create', threadId],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    expect((await firstJsonLine<{ ok: boolean }>(writer)).ok).toBe(true);
    // The server holding the lease dies without releasing it.
    const died = new Promise((resolve) => doomed.child.once('exit', resolve));
    doomed.child.kill('SIGKILL');
    await died;
    writer.kill('SIGKILL');

    type Outcome = { ok: boolean; code?: string };
    const taken = await runScript<Outcome>('lease.mjs', [survivor.address, 'resume', threadId]);
    expect(taken[0]).toMatchObject({ ok: true });
    const client = new RemoteThreadStore(survivor.address);
    try {
      const history = await client.loadHistory({ threadId: threadId as never });
      expect(messagesOf(history.items)).toEqual(['from a', 'from b']);
    } finally {
      client.close();
    }
  });
  it('frees the writers of a client process that dies, keeping what it wrote', async () => {
    const url = await postgres.createDatabase();
    const server = await serverFor(url);
    const threadId = randomUUID();
    const writer = spawn(
      process.execPath,
      [fixture('lease.mjs'), server.address, 'create', threadId],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    expect((await firstJsonLine<{ ok: boolean }>(writer)).ok).toBe(true);
    type Outcome = { ok: boolean; code?: string; message?: string };
    // While A lives, its writer is held for it.
    const refused = await runScript<Outcome>('lease.mjs', [server.address, 'resume', threadId]);
    expect(refused[0]).toMatchObject({ ok: false, code: 'InvalidRequest' });
    expect(refused[0]?.message).toContain('already has a live writer');
    // A dies without shutting down; its session stream drops and the server lets go.
    const died = new Promise((resolve) => writer.once('exit', resolve));
    writer.kill('SIGKILL');
    await died;
    let outcome: Outcome | undefined;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      outcome = (await runScript<Outcome>('lease.mjs', [server.address, 'resume', threadId]))[0];
      if (outcome?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(outcome).toMatchObject({ ok: true });
    const client = new RemoteThreadStore(server.address);
    try {
      const history = await client.loadHistory({ threadId: threadId as never });
      expect(messagesOf(history.items)).toEqual(['from a', 'from b']);
    } finally {
      client.close();
    }
  });
});
