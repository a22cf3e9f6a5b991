import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/**
 * A minimal newline-delimited JSON-RPC client over a child's stdio (the framing of
 * `codex app-server`): requests by id, notifications collected, bounded waits.
 */
export class StdioJsonRpcClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  readonly stderr: string[] = [];
  #nextId = 1;
  #buffer = '';
  #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #exited = false;

  constructor(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.#onData(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < 200) this.stderr.push(chunk);
    });
    this.child.on('exit', (code, signal) => {
      this.#exited = true;
      const error = new Error(
        `app-server exited (code ${code}, signal ${signal}): ${this.stderr.join('').slice(-2000)}`,
      );
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === '') continue;
      let message: {
        id?: number;
        result?: unknown;
        error?: { code: number; message: string };
        method?: string;
        params?: unknown;
      };
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (
        message.id !== undefined &&
        (message.result !== undefined || message.error !== undefined)
      ) {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) continue;
        this.#pending.delete(message.id);
        if (message.error !== undefined) {
          pending.reject(
            new Error(`JSON-RPC error ${message.error.code}: ${message.error.message}`),
          );
        } else {
          pending.resolve(message.result);
        }
      } else if (message.method !== undefined) {
        this.notifications.push({ method: message.method, params: message.params });
      }
    }
  }

  request<T = unknown>(method: string, params: unknown, timeoutMs = 30_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('app-server is not running'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`timeout waiting for ${method}: ${this.stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  notify(method: string, params?: unknown): void {
    const message = params === undefined ? { method } : { method, params };
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async initialize(name = 'skein-interop', experimentalApi = false): Promise<unknown> {
    const result = await this.request('initialize', {
      clientInfo: { name, version: '0.1.0' },
      ...(experimentalApi ? { capabilities: { experimentalApi: true } } : {}),
    });
    this.notify('initialized');
    return result;
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    this.child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }
}
