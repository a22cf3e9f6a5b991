/** An app-server in this process (real ThreadManager over a real store) with scripted clients. */
import { ThreadManager } from '@skein/thread-manager';
import { InMemoryThreadStore, type ThreadStore } from '@skein/thread-store';
import { createAppServer } from '../../src/app.js';
import type { AppServer } from '../../src/server/app-server.js';
import type { Connection } from '../../src/server/connection.js';
import { CODEX_PROTOCOL_VERSION } from '../../src/version.js';

export type Message = Record<string, unknown>;

export class TestClient {
  readonly received: Message[] = [];
  /** Method of every request sent, by id (to pick the schema of its answer). */
  readonly methods = new Map<string, string>();
  #nextId = 1;
  readonly connection: Connection;

  constructor(private readonly server: AppServer) {
    this.connection = server.open({
      send: (text) => this.received.push(JSON.parse(text) as Message),
      close: () => {},
    });
  }

  async raw(text: string): Promise<void> {
    await this.server.receive(this.connection, text);
  }

  /** Sends a request and returns its answer; notifications stay in `received`. */
  async request(method: string, params?: unknown): Promise<Message> {
    const id = this.#nextId++;
    this.methods.set(String(id), method);
    await this.raw(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    // Follow-up events of the manager are emitted on setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    const answer = this.received.find((m) => m.id === id && !('method' in m));
    if (answer === undefined) throw new Error(`no answer to ${method}`);
    return answer;
  }

  async initialize(capabilities: Message = {}): Promise<Message> {
    const answer = await this.request('initialize', {
      clientInfo: { name: 'test_client', version: '1' },
      capabilities,
    });
    await this.raw(JSON.stringify({ method: 'initialized' }));
    return answer;
  }

  notifications(method?: string): Message[] {
    return this.received.filter(
      (m) => typeof m.method === 'string' && (method === undefined || m.method === method),
    );
  }

  close(): void {
    this.server.close(this.connection);
  }
}

export interface InProcessServer {
  server: AppServer;
  store: ThreadStore;
  manager: ThreadManager;
  client(): TestClient;
}

export function inProcessServer(
  options: { store?: ThreadStore; idleUnloadDelayMs?: number; cwd?: string } = {},
): InProcessServer {
  const store = options.store ?? new InMemoryThreadStore();
  const manager = new ThreadManager({
    store,
    defaultModelProvider: 'openai',
    cliVersion: CODEX_PROTOCOL_VERSION,
    idleUnloadDelayMs: options.idleUnloadDelayMs ?? 60_000,
  });
  const server = createAppServer({
    store,
    manager,
    codexHome: '/tmp/skein-test-home',
    cwd: options.cwd ?? '/tmp',
    defaultModelProvider: 'openai',
    version: '0.0.0-test',
    log: () => {},
  });
  return { server, store, manager, client: () => new TestClient(server) };
}
