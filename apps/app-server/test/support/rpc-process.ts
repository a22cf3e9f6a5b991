/**
 * A JSON-RPC client over a child process's stdio (newline-delimited JSON), used to drive the
 * real `codex app-server` and Skein's built server with the same script.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Message = Record<string, unknown>;

export interface Exchange {
  /** The response (`result` or `error`) to the request. */
  response: Message;
  /** Server notifications received after the request was sent and before the barrier answer. */
  notifications: Message[];
}

const TIMEOUT_MS = 20_000;

export class RpcProcess {
  readonly received: Message[] = [];
  readonly stderr: string[] = [];
  #nextId = 1000;
  #waiters = new Map<string, (message: Message) => void>();
  #exited: Promise<number | null>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        this.stderr.push(`non-JSON stdout: ${line}`);
        return;
      }
      this.received.push(message);
      const id = message.id;
      if (id !== undefined && !('method' in message)) {
        const waiter = this.#waiters.get(String(id));
        if (waiter) {
          this.#waiters.delete(String(id));
          waiter(message);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.#exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static spawn(
    command: string,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string },
  ): RpcProcess {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new RpcProcess(child);
  }

  /** Writes one raw line (for malformed-input tests). */
  writeRaw(text: string): void {
    this.child.stdin.write(`${text}\n`);
  }

  send(message: Message): void {
    this.writeRaw(JSON.stringify(message));
  }

  waitFor(id: string | number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(String(id));
        reject(
          new Error(
            `no answer to request ${id} within ${TIMEOUT_MS} ms; stderr: ${this.stderr.join('').slice(-2000)}`,
          ),
        );
      }, TIMEOUT_MS);
      this.#waiters.set(String(id), (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }

  /** Sends a request (params omitted when `undefined`) and waits for its answer. */
  async request(
    method: string,
    params?: unknown,
    id: string | number = this.#nextId++,
  ): Promise<Message> {
    const answer = this.waitFor(id);
    this.send(params === undefined ? { id, method } : { id, method, params });
    return answer;
  }

  /**
   * A request plus the notifications it caused: everything that arrives until a cheap barrier
   * request (`thread/loaded/list`) is answered, so follow-up notifications are included.
   */
  async exchange(method: string, params?: unknown, settleMs = 0): Promise<Exchange> {
    const start = this.received.length;
    const response = await this.request(method, params);
    // Some follow-up notifications are emitted from background tasks: let them arrive.
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    await this.request('thread/loaded/list', {});
    const notifications = this.received
      .slice(start)
      .filter((m) => typeof m.method === 'string' && m.id === undefined);
    return { response, notifications };
  }

  async initialize(capabilities: Message = {}, clientName = 'skein_diff'): Promise<Message> {
    const answer = await this.request('initialize', {
      clientInfo: { name: clientName, version: '1.0.0' },
      capabilities,
    });
    this.send({ method: 'initialized' });
    return answer;
  }

  /** Closes stdin and waits for the process to exit (killing it after a grace period). */
  async close(graceMs = 5000): Promise<number | null> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }
}
