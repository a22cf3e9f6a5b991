/**
 * Two real app-server processes (`--store grpc://…`) against one real thread-store-server
 * process backed by a real PostgreSQL, writing and listing at the same time. Afterwards every
 * thread is listed exactly once, with its name and history, through both app-servers and
 * straight from the PostgreSQL store.
 *
 * The app-server has no model behind it, so the only way it records history is
 * `thread/inject_items` (response items, no turn). Codex lists a thread only once it has a user
 * message event (spec manager-appserver §2.5), and injected items are not events: a started
 * thread with injected items is stored but never listed. So the listed threads here are
 * `thread/fork`s of a seeded conversation (the fork copies its user-message events) that then
 * get injected items and a name; a few plain `thread/start` threads check the unlisted path.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import type { RolloutItem, ThreadId, ThreadStore } from '@skein/thread-store';
import {
  agentMessageItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { openThreadStore } from '@skein/thread-stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startStoreServer } from './helpers.js';

const appServerMain = fileURLToPath(new URL('../../app-server/dist/main.js', import.meta.url));
const REQUEST_TIMEOUT_MS = 30_000;
/** Threads each app-server forks (listed) and starts (unlisted). */
const FORKS_PER_SERVER = 8;
const STARTS_PER_SERVER = 2;
/** Requests in flight per app-server while writing. */
const WRITE_CONCURRENCY = 3;

type Message = Record<string, unknown>;

/** Newline-delimited JSON-RPC over a child's stdio; answers matched by id. */
class AppServerProcess {
  readonly stderr: string[] = [];
  #nextId = 1;
  #waiters = new Map<number, (message: Message) => void>();
  readonly #exited: Promise<void>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        this.stderr.push(`non-JSON stdout: ${line}`);
        return;
      }
      if (typeof message.id === 'number' && !('method' in message)) {
        this.#waiters.get(message.id)?.(message);
        this.#waiters.delete(message.id);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static start(storeSpec: string, codexHome: string, cwd: string): AppServerProcess {
    const child = spawn(process.execPath, [appServerMain, '--store', storeSpec], {
      cwd,
      env: { ...process.env, CODEX_HOME: codexHome },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new AppServerProcess(child);
  }

  /** The `result` of a request; an `error` answer rejects with its message. */
  request(method: string, params: unknown): Promise<Message> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(
          new Error(
            `${method}: no answer within ${REQUEST_TIMEOUT_MS} ms; stderr: ${this.stderr.join('').slice(-2000)}`,
          ),
        );
      }, REQUEST_TIMEOUT_MS);
      this.#waiters.set(id, (message) => {
        clearTimeout(timer);
        if (message.error !== undefined) {
          reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        } else resolve(message.result as Message);
      });
      this.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  async initialize(): Promise<void> {
    await this.request('initialize', {
      clientInfo: { name: 'skein_scale_out_test', version: '1.0.0' },
      capabilities: { experimentalApi: true },
    });
    this.child.stdin.write(`${JSON.stringify({ method: 'initialized' })}\n`);
  }

  /** Closes stdin (the server exits on EOF after flushing); SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

interface ListedThread {
  id: string;
  name: string | null;
  preview: string;
}

/** Every page of `thread/list` (all providers), in order, bounded. */
async function listAll(server: AppServerProcess): Promise<ListedThread[]> {
  const listed: ListedThread[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const result = await server.request('thread/list', { limit: 5, cursor, modelProviders: [] });
    listed.push(...(result.data as ListedThread[]));
    cursor = (result.nextCursor as string | null) ?? null;
    if (cursor === null) return listed;
  }
  throw new Error('thread/list did not end within 100 pages');
}

const userMessage = (text: string) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text }],
});
const assistantMessage = (text: string) => ({
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text }],
});

/** The texts of the response-item messages of a history, in order. */
function responseTexts(items: readonly RolloutItem[]): string[] {
  const texts: string[] = [];
  for (const item of items) {
    if (item.type !== 'response_item') continue;
    const payload = item.payload as { type?: string; content?: { text?: string }[] };
    if (payload.type !== 'message') continue;
    for (const part of payload.content ?? []) if (part.text !== undefined) texts.push(part.text);
  }
  return texts;
}

/** Runs `work` over `inputs` with at most `limit` in flight. */
async function inParallel<T, R>(
  inputs: readonly T[],
  limit: number,
  work: (input: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(inputs.length);
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await work(inputs[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

let postgres: PostgresServer | undefined;
let storeServer: RunningServer | undefined;
const appServers: AppServerProcess[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  // The app-server runs as built (scripts/setup.sh builds the workspace before the tests).
  if (!existsSync(appServerMain)) {
    throw new Error(`${appServerMain} is missing: run pnpm --filter @skein/app-server... build`);
  }
  postgres = await startPostgres();
});
afterAll(async () => {
  for (const server of appServers) await server.stop();
  await storeServer?.stop();
  await postgres?.stop();
  for (const dir of tempDirs) removeTempDir(dir);
});

/** A conversation with a user-message event, written straight to the store: the fork base. */
async function seedConversation(
  store: ThreadStore,
  cwd: string,
  parent?: { threadId: ThreadId; depth: number },
): Promise<ThreadId> {
  const threadId = randomUUID() as ThreadId;
  await store.createThread({
    threadId,
    ...(parent === undefined
      ? { source: 'vscode' as const }
      : {
          parentThreadId: parent.threadId,
          threadSource: 'subagent' as const,
          source: {
            subagent: {
              thread_spawn: {
                parent_thread_id: parent.threadId,
                depth: parent.depth,
                agent_path: null,
                agent_nickname: `agent-${parent.depth}`,
                agent_role: null,
              },
            },
          },
        }),
    originator: 'seed',
    metadata: { cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
  });
  await store.persistThread(threadId);
  await store.appendItems({
    threadId,
    // One completed turn, so a fork copies it whole (no interrupted-turn marker).
    items: [
      turnStartedItem('seed-turn'),
      turnContextItem(cwd, 'gpt-test', 'seed-turn'),
      userMessageItem('seed question'),
      agentMessageItem('seed answer'),
      turnCompleteItem('seed-turn', 'seed answer'),
    ],
  });
  await store.flushThread(threadId);
  await store.updateThreadMetadata({
    threadId,
    patch: { preview: 'seed question', firstUserMessage: 'seed question', title: 'seed question' },
  });
  await store.shutdownThread(threadId);
  return threadId;
}

interface Written {
  threadId: string;
  name: string;
  texts: string[];
  listed: boolean;
}

describe('two app-servers over one store server backed by PostgreSQL', () => {
  it('write and list concurrently; every thread is there exactly once with its name and history', async () => {
    const url = await postgres!.createDatabase();
    storeServer = await startStoreServer(url);
    const direct = await openThreadStore(url, { home: { defaultModelProvider: 'openai' } });
    try {
      const cwd = makeTempDir('skein-scale-out-cwd-');
      tempDirs.push(cwd);
      const seed = await seedConversation(direct.store, cwd);

      const spec = `grpc://${storeServer.address}`;
      const servers = ['a', 'b'].map((label) => {
        const home = makeTempDir(`skein-scale-out-home-${label}-`);
        tempDirs.push(home);
        const server = AppServerProcess.start(spec, home, cwd);
        appServers.push(server);
        return { label, server };
      });
      await Promise.all(servers.map(({ server }) => server.initialize()));

      // One server's writes: forks (listed) and plain starts (unlisted), each with injected
      // items and a name, WRITE_CONCURRENCY at a time.
      const write = async (label: string, server: AppServerProcess): Promise<Written[]> => {
        const jobs = [
          ...Array.from({ length: FORKS_PER_SERVER }, (_, i) => ({ kind: 'fork', i })),
          ...Array.from({ length: STARTS_PER_SERVER }, (_, i) => ({ kind: 'start', i })),
        ];
        return inParallel(jobs, WRITE_CONCURRENCY, async ({ kind, i }) => {
          const result =
            kind === 'fork'
              ? await server.request('thread/fork', { threadId: seed })
              : await server.request('thread/start', { cwd });
          const threadId = (result.thread as { id: string }).id;
          const tag = `${label}-${kind}-${i}`;
          const texts = [`${tag} asks`, `${tag} answers`];
          await server.request('thread/inject_items', {
            threadId,
            items: [userMessage(texts[0] as string), assistantMessage(texts[1] as string)],
          });
          await server.request('thread/name/set', { threadId, name: `name ${tag}` });
          return { threadId, name: `name ${tag}`, texts, listed: kind === 'fork' };
        });
      };

      // Listers: full page walks on both servers while the writes run; a page walk must never
      // show one thread twice.
      let writing = true;
      const walks: number[] = [];
      const lister = async (server: AppServerProcess) => {
        for (let pass = 0; pass < 200 && writing; pass += 1) {
          const listed = await listAll(server);
          const ids = listed.map((thread) => thread.id);
          expect(new Set(ids).size).toBe(ids.length);
          walks.push(ids.length);
        }
      };
      const listers = servers.map(({ server }) => lister(server));
      let written: Written[];
      try {
        written = (
          await Promise.all(servers.map(({ label, server }) => write(label, server)))
        ).flat();
      } finally {
        writing = false;
      }
      await Promise.all(listers);
      expect(walks.length).toBeGreaterThan(0);
      // No walk ever saw more than exist (the seed and the forks): nothing phantom or doubled.
      for (const count of walks) expect(count).toBeLessThanOrEqual(1 + FORKS_PER_SERVER * 2);
      expect(new Set(written.map((thread) => thread.threadId)).size).toBe(written.length);

      // Through both app-servers: the seed plus every fork, each exactly once, with its name.
      const listedExpected = written.filter((thread) => thread.listed);
      const expectedListing = [
        { id: seed, name: null },
        ...listedExpected.map((thread) => ({ id: thread.threadId, name: thread.name })),
      ].sort((left, right) => left.id.localeCompare(right.id));
      for (const { server } of servers) {
        const listed = await listAll(server);
        expect(
          listed
            .map((thread) => ({ id: thread.id, name: thread.name }))
            .sort((left, right) => left.id.localeCompare(right.id)),
        ).toEqual(expectedListing);
        // Forks carry the seed's first user message as their preview.
        for (const thread of listed) expect(thread.preview).toBe('seed question');
      }

      // thread/read through the server that did NOT write the thread (so from the store): every
      // thread readable with its name, listed or not. A fork has the seed's turn (injected items
      // add none); a started thread has no user message: stored, it has no turns (Codex 0.169
      // refuses includeTurns only for a thread it has not written).
      const [first, second] = servers;
      for (const thread of written) {
        const reader = thread.name.startsWith('name a-') ? second!.server : first!.server;
        const plain = (await reader.request('thread/read', { threadId: thread.threadId }))
          .thread as { id: string; name: string | null };
        expect({ id: plain.id, name: plain.name }).toEqual({
          id: thread.threadId,
          name: thread.name,
        });
        const withTurns = reader.request('thread/read', {
          threadId: thread.threadId,
          includeTurns: true,
        });
        if (thread.listed) {
          const read = (await withTurns).thread as { name: string | null; turns: unknown[] };
          expect(read.name).toBe(thread.name);
          expect(read.turns).toHaveLength(1);
        } else {
          expect(((await withTurns).thread as { turns: unknown[] }).turns).toEqual([]);
        }
      }

      // Straight from PostgreSQL: the same listing, and each history holds its own injected
      // items exactly once, in order, at its end (after what a fork copied), and no other's.
      const storeListed: { id: string; name: string | null }[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page += 1) {
        const result = await direct.store.listThreads({ pageSize: 4, cursor, allowedSources: [] });
        storeListed.push(
          ...result.items.map((thread) => ({ id: thread.threadId, name: thread.name ?? null })),
        );
        cursor = result.nextCursor;
        if (cursor === null) break;
      }
      expect(storeListed.sort((left, right) => left.id.localeCompare(right.id))).toEqual(
        expectedListing,
      );
      for (const thread of written) {
        const history = await direct.store.loadHistory({
          threadId: thread.threadId as ThreadId,
        });
        const texts = responseTexts(history.items);
        expect(texts.slice(-2)).toEqual(thread.texts);
        expect(texts.filter((text) => / (asks|answers)$/.test(text))).toEqual(thread.texts);
        const stored = await direct.store.readThread({ threadId: thread.threadId as ThreadId });
        expect(stored.name).toBe(thread.name);
      }

      // Archive on one server, seen from the other; delete on one, gone for the other.
      const archivedFork = written.find((thread) => thread.name === 'name a-fork-0');
      const deletedStart = written.find((thread) => thread.name === 'name b-start-0');
      await first!.server.request('thread/archive', { threadId: archivedFork!.threadId });
      expect((await listAll(second!.server)).map((thread) => thread.id)).not.toContain(
        archivedFork!.threadId,
      );
      const archivedPage = await second!.server.request('thread/list', {
        archived: true,
        modelProviders: [],
      });
      expect((archivedPage.data as ListedThread[]).map((thread) => thread.id)).toEqual([
        archivedFork!.threadId,
      ]);
      await second!.server.request('thread/delete', { threadId: deletedStart!.threadId });
      await expect(
        first!.server.request('thread/read', { threadId: deletedStart!.threadId }),
      ).rejects.toThrow(`thread not loaded: ${deletedStart!.threadId}`);
      await expect(
        direct.store.loadHistory({ threadId: deletedStart!.threadId as ThreadId }),
      ).rejects.toThrow();
    } finally {
      await direct.close();
    }
  }, 240_000);
});

describe('sub-agent cascades through an app-server over gRPC', () => {
  it('archives, unarchives and deletes parent → child → grandchild stored in PostgreSQL', async () => {
    const url = await postgres!.createDatabase();
    const server = await startStoreServer(url);
    const direct = await openThreadStore(url, { home: { defaultModelProvider: 'openai' } });
    try {
      const cwd = makeTempDir('skein-cascade-cwd-');
      const home = makeTempDir('skein-cascade-home-');
      tempDirs.push(cwd, home);
      const parent = await seedConversation(direct.store, cwd);
      const child = await seedConversation(direct.store, cwd, { threadId: parent, depth: 1 });
      const grandchild = await seedConversation(direct.store, cwd, { threadId: child, depth: 2 });
      const bystander = await seedConversation(direct.store, cwd);
      const app = AppServerProcess.start(`grpc://${server.address}`, home, cwd);
      appServers.push(app);
      await app.initialize();

      const storeIds = async (archived: boolean) =>
        (await direct.store.listThreads({ pageSize: 50, archived, allowedSources: [] })).items
          .map((thread) => thread.threadId)
          .sort();

      await app.request('thread/archive', { threadId: parent });
      expect(await storeIds(true)).toEqual([parent, child, grandchild].sort());
      expect(await storeIds(false)).toEqual([bystander]);

      await app.request('thread/unarchive', { threadId: parent });
      expect(await storeIds(true)).toEqual([]);
      expect(await storeIds(false)).toEqual([parent, child, grandchild, bystander].sort());

      await app.request('thread/delete', { threadId: parent });
      expect(await storeIds(false)).toEqual([bystander]);
      for (const gone of [parent, child, grandchild]) {
        await expect(
          direct.store.readThread({ threadId: gone, includeArchived: true }),
        ).rejects.toThrow();
      }
    } finally {
      await direct.close();
      await server.stop();
    }
  }, 120_000);
});
