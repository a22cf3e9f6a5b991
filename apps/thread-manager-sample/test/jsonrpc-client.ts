import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/** A minimal newline-delimited JSON-RPC client over a child's stdio, with bounded waits. */
export class JsonRpcChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderr: string[] = [];
  #nextId = 1;
  #buffer = '';
  #pending = new Map<
    number,
    (message: { result?: unknown; error?: { message: string } }) => void
  >();

  constructor(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.#onData(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < 100) this.stderr.push(chunk);
    });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === '') continue;
      try {
        const message = JSON.parse(line) as {
          id?: number;
          result?: unknown;
          error?: { message: string };
        };
        if (typeof message.id === 'number') this.#pending.get(message.id)?.(message);
      } catch {
        // not JSON: ignore
      }
    }
  }

  request<T>(method: string, params: unknown, timeoutMs = 30_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`timeout waiting for ${method}: ${this.stderr.join('').slice(-1000)}`));
      }, timeoutMs);
      this.#pending.set(id, (message) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (message.error !== undefined) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result as T);
      });
      this.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  async initialize(): Promise<void> {
    await this.request('initialize', { clientInfo: { name: 'skein-sample-test', version: '0' } });
    this.child.stdin.write(`${JSON.stringify({ method: 'initialized' })}\n`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
