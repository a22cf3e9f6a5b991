/**
 * Children the reliability tests kill, stop and talk to: stdout lines that can be awaited,
 * bounded stderr, and a JSON-RPC peer over stdio (the framing of `codex app-server`).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A child process whose stdout lines are kept and can be awaited, and whose stderr is kept
 * (bounded) for assertions and failure messages.
 */
export class LineChild {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  #stderr = '';
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
    this.child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 1_000_000) this.#stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (already seen or still to come) that passes `test`, within `timeoutMs`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no matching line within ${timeoutMs} ms; stderr: ${this.#stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      void this.exited.then(() => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`exited before a matching line; stderr: ${this.#stderr.slice(-2000)}`));
      });
    });
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}

export type RpcMessage = Record<string, unknown> & {
  id?: unknown;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

/**
 * A JSON-RPC peer over a child's stdio (newline-delimited JSON, the framing of `codex
 * app-server`): requests by id, answers kept in the order they arrived, pipelining allowed.
 */
export class JsonRpcChild extends LineChild {
  readonly answers = new Map<string, RpcMessage>();
  readonly notifications: RpcMessage[] = [];
  #nextId = 1;
  #waiters = new Map<string, (message: RpcMessage) => void>();

  constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
    super(command, args, options);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: RpcMessage;
      try {
        message = JSON.parse(line) as RpcMessage;
      } catch {
        return;
      }
      if (message.method !== undefined) {
        if (this.notifications.length < 10_000) this.notifications.push(message);
        return;
      }
      const key = JSON.stringify(message.id ?? null);
      this.answers.set(key, message);
      const waiter = this.#waiters.get(key);
      if (waiter) {
        this.#waiters.delete(key);
        waiter(message);
      }
    });
  }

  /** Writes one raw line (anything: garbage, a huge message, a message without newline). */
  writeRaw(text: string): boolean {
    if (!this.running || this.child.stdin?.destroyed) return false;
    return this.child.stdin!.write(`${text}\n`);
  }

  /**
   * Sends a request and returns its id (the answer is awaited with `answer`). Ids of its own
   * are `rpc-<n>`, so raw messages with numeric ids never collide with them.
   */
  send(
    method: string,
    params?: unknown,
    id: string | number = `rpc-${this.#nextId++}`,
  ): string | number {
    this.writeRaw(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    return id;
  }

  /** The answer to request `id` (already received or still to come), within `timeoutMs`. */
  answer(id: unknown, timeoutMs = 30_000): Promise<RpcMessage> {
    const key = JSON.stringify(id);
    const seen = this.answers.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(
          new Error(
            `no answer to ${key} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.set(key, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      void this.exited.then(() => {
        if (!this.#waiters.has(key)) return;
        this.#waiters.delete(key);
        clearTimeout(timer);
        reject(new Error(`exited before answering ${key}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  /** A request and its answer; throws on a JSON-RPC error unless `allowError`. */
  async request<T = unknown>(method: string, params?: unknown, timeoutMs = 30_000): Promise<T> {
    const message = await this.answer(this.send(method, params), timeoutMs);
    if (message.error !== undefined) {
      throw new Error(`${method}: JSON-RPC error ${message.error.code}: ${message.error.message}`);
    }
    return message.result as T;
  }

  async initialize(experimentalApi = false): Promise<void> {
    await this.request('initialize', {
      clientInfo: { name: 'skein_reliability', version: '1.0.0' },
      ...(experimentalApi ? { capabilities: { experimentalApi: true } } : {}),
    });
    this.writeRaw(JSON.stringify({ method: 'initialized' }));
  }
}
