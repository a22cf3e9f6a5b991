/**
 * `--store postgres://…`: the CLI lists and renames threads of a real PostgreSQL store (no
 * Codex home involved), and commands that work on a home's files refuse such a store.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type PostgresServer, startPostgres } from '@skein/test-support';
import type { ThreadId, ThreadStore } from '@skein/thread-store';
import {
  agentMessageItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { PostgresThreadStore } from '@skein/thread-store-postgres';
import { serveThreadStore } from '@skein/thread-store-remote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type RunResult, skein } from './helpers.js';

let postgres: PostgresServer | undefined;
let store: PostgresThreadStore | undefined;
let url = '';
/** A CODEX_HOME that does not exist: a remote store must not need (or create) one. */
let missingHome = '';

/** A thread with one completed turn, written straight to the store (as Codex lists it). */
async function seedThread(
  target: ThreadStore,
  cwd: string,
  question: string,
  parentThreadId?: ThreadId,
): Promise<ThreadId> {
  const threadId = randomUUID() as ThreadId;
  await target.createThread({
    threadId,
    ...(parentThreadId === undefined
      ? { source: 'cli' as const }
      : {
          parentThreadId,
          threadSource: 'subagent' as const,
          source: {
            subagent: {
              thread_spawn: {
                parent_thread_id: parentThreadId,
                depth: 1,
                agent_path: null,
                agent_nickname: 'helper',
                agent_role: null,
              },
            },
          },
        }),
    originator: 'skein-cli-test',
    metadata: { cwd, modelProvider: 'openai', memoryMode: 'enabled' },
  });
  await target.persistThread(threadId);
  await target.appendItems({
    threadId,
    items: [
      turnStartedItem('turn-1'),
      turnContextItem(cwd, 'gpt-test', 'turn-1'),
      userMessageItem(question),
      agentMessageItem(`answer to ${question}`),
      turnCompleteItem('turn-1', `answer to ${question}`),
    ],
  });
  await target.flushThread(threadId);
  await target.updateThreadMetadata({
    threadId,
    patch: { preview: question, firstUserMessage: question, title: question },
  });
  await target.shutdownThread(threadId);
  return threadId;
}

/** Runs the built CLI without blocking this process (an in-process gRPC server must answer). */
function runAsync(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1', CODEX_HOME: missingHome },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function run(args: readonly string[]) {
  return skein(['--store', url, ...args], { env: { CODEX_HOME: missingHome } });
}

async function listJson(): Promise<
  { id: string; name: string | null; preview: string; status: unknown }[]
> {
  const result = await run(['list', '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase();
  store = await PostgresThreadStore.open({ connectionString: url });
  missingHome = join(makeTempDir('skein-cli-store-'), 'no-such-home');
});

afterAll(async () => {
  await store?.close();
  await postgres?.stop();
});

describe('skein --store postgres://', () => {
  it('lists the store threads as app-server Thread objects and renames one', async () => {
    const cwd = makeTempDir('skein-cli-store-cwd-');
    const first = await seedThread(store!, cwd, 'first question');
    const second = await seedThread(store!, cwd, 'second question');

    const listed = await listJson();
    expect(listed.map((t) => t.id).sort()).toEqual([first, second].sort());
    const firstListed = listed.find((t) => t.id === first);
    expect(firstListed).toMatchObject({
      preview: 'first question',
      name: null,
      status: { type: 'notLoaded' },
    });

    const renamed = await run(['rename', second, 'Renamed in PostgreSQL']);
    expect(renamed.stderr).toBe('');
    expect(renamed.code).toBe(0);
    // The store itself has the name, and the CLI lists it.
    const stored = await store!.readThread({ threadId: second, includeHistory: false });
    expect(stored.name).toBe('Renamed in PostgreSQL');
    expect((await listJson()).find((t) => t.id === second)?.name).toBe('Renamed in PostgreSQL');

    // A thread is found by its new name and by an id prefix, through the store's listing.
    const byName = await run(['show', 'Renamed in PostgreSQL', '--metadata-only', '--json']);
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout).thread.id).toBe(second);
    const byPrefix = await run(['show', first.slice(0, 13), '--metadata-only', '--json']);
    expect(byPrefix.code).toBe(0);
    expect(JSON.parse(byPrefix.stdout).thread.id).toBe(first);
    expect(existsSync(missingHome)).toBe(false);
  });

  it('reaches the same store through a gRPC thread-store server (grpc://)', async () => {
    const cwd = makeTempDir('skein-cli-store-grpc-');
    const threadId = await seedThread(store!, cwd, 'question over grpc');
    const server = await serveThreadStore(store!, '127.0.0.1:0');
    try {
      const grpc = ['--store', `grpc://${server.address}`];
      const listed = await runAsync([...grpc, 'list', '--json']);
      expect(listed.stderr).toBe('');
      expect(listed.code).toBe(0);
      const threads = JSON.parse(listed.stdout) as { id: string; preview: string }[];
      expect(threads.find((t) => t.id === threadId)?.preview).toBe('question over grpc');

      const archived = await runAsync([...grpc, 'archive', threadId]);
      expect(archived.stderr).toBe('');
      expect(archived.code).toBe(0);
      const stored = await store!.readThread({
        threadId,
        includeArchived: true,
        includeHistory: false,
      });
      expect(stored.archivedAtMs).not.toBeNull();
      const active = JSON.parse((await runAsync([...grpc, 'list', '--json'])).stdout) as {
        id: string;
      }[];
      expect(active.map((t) => t.id)).not.toContain(threadId);
    } finally {
      await server.close();
    }
  });

  it('archives a thread with its sub-agent threads (spawn tree from the store listing)', async () => {
    const cwd = makeTempDir('skein-cli-store-tree-');
    const parent = await seedThread(store!, cwd, 'parent question');
    const child = await seedThread(store!, cwd, 'child question', parent);
    const archived = await run(['archive', parent, '--json']);
    expect(archived.stderr).toBe('');
    expect(archived.code).toBe(0);
    for (const threadId of [parent, child]) {
      const stored = await store!.readThread({
        threadId,
        includeArchived: true,
        includeHistory: false,
      });
      expect(stored.archivedAtMs).not.toBeNull();
    }
  });

  it.each([
    ['doctor'],
    ['backfill'],
    ['reindex'],
    ['export', randomUUID()],
    ['import', 'bundle.json'],
    ['debug', 'prompt-input', randomUUID()],
  ])('refuses %s (it works on a Codex home’s files) with a usage error', async (...args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('works on the files of a Codex home');
    expect(result.stdout).toBe('');
  });

  it('reports an unreachable store as a failure, not a crash', async () => {
    const result = await skein(['--store', 'postgres://postgres@127.0.0.1:1/none', 'list'], {
      env: { CODEX_HOME: missingHome },
    });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(2);
    expect(result.stderr).toContain('cannot open the store');
  });
});
