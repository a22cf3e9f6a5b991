/**
 * One `codex app-server` process driven over stdio (newline-delimited JSON-RPC), with every
 * message in both directions handed to a transcript sink. Waits are bounded; a JSON-RPC error
 * is a value (callers decide), a timeout or an early exit is an exception.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as z from 'zod';

export type JsonObject = Record<string, unknown>;

const messageSchema = z
  .object({
    id: z.union([z.number(), z.string()]).optional(),
    method: z.string().optional(),
    params: z.unknown().optional(),
    result: z.unknown().optional(),
    error: z.object({ code: z.number(), message: z.string() }).passthrough().optional(),
  })
  .passthrough();

export type RpcMessage = z.infer<typeof messageSchema>;

export interface RpcError {
  code: number;
  message: string;
}

export type RpcAnswer = { ok: true; result: JsonObject } | { ok: false; error: RpcError };

export interface Notification {
  /** Position in the session's stream of notifications, for "after this point" waits. */
  index: number;
  method: string;
  params: JsonObject;
}

export type TranscriptSink = (direction: 'send' | 'recv', message: JsonObject) => void;

export interface AppServerSessionOptions {
  binary: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  transcript: TranscriptSink;
  /** Default bound for one request. */
  requestTimeoutMs?: number;
}

export class AppServerSession {
  readonly notifications: Notification[] = [];
  readonly stderr: string[] = [];
  #child: ChildProcessWithoutNullStreams;
  #nextId = 1;
  #pending = new Map<string, (message: RpcMessage) => void>();
  #listeners = new Set<() => void>();
  #exit: Promise<number | null>;
  #exited = false;
  #requestTimeoutMs: number;

  constructor(private readonly options: AppServerSessionOptions) {
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#child = spawn(options.binary, ['app-server'], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#onLine(line));
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      // Keep the tail only: Codex logs a lot at startup.
      this.stderr.push(chunk);
      if (this.stderr.length > 400) this.stderr.splice(0, 200);
    });
    this.#exit = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#exited = true;
        resolve(code);
        this.#wake();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.stderr.push(`non-JSON stdout line: ${line.slice(0, 500)}\n`);
      return;
    }
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) {
      this.stderr.push(`unexpected stdout message: ${line.slice(0, 500)}\n`);
      return;
    }
    const message = parsed.data;
    this.options.transcript('recv', raw as JsonObject);
    if (message.method !== undefined && message.id !== undefined) {
      this.#answerServerRequest(message);
    } else if (message.method !== undefined) {
      this.notifications.push({
        index: this.notifications.length,
        method: message.method,
        params: (message.params ?? {}) as JsonObject,
      });
    } else if (message.id !== undefined) {
      const waiter = this.#pending.get(String(message.id));
      if (waiter) {
        this.#pending.delete(String(message.id));
        waiter(message);
      }
    }
    this.#wake();
  }

  /** The scenario never asks for approvals or user input; refuse anything the server asks. */
  #answerServerRequest(message: RpcMessage): void {
    this.#write({
      id: message.id,
      error: { code: -32601, message: `recorder does not handle ${message.method}` },
    });
  }

  #wake(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #write(message: JsonObject): void {
    this.options.transcript('send', message);
    this.#child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  notify(method: string, params?: JsonObject): void {
    this.#write(params === undefined ? { method } : { method, params });
  }

  request(method: string, params: JsonObject | undefined, timeoutMs?: number): Promise<RpcAnswer> {
    if (this.#exited) return Promise.reject(this.#exitError(`before ${method}`));
    const id = this.#nextId++;
    const bound = timeoutMs ?? this.#requestTimeoutMs;
    return new Promise<RpcAnswer>((resolve, reject) => {
      const onWake = () => {
        if (this.#exited && this.#pending.has(String(id))) {
          cleanup();
          reject(this.#exitError(`while waiting for ${method}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`codex app-server: no answer to ${method} within ${bound} ms`));
      }, bound);
      const cleanup = () => {
        clearTimeout(timer);
        this.#pending.delete(String(id));
        this.#listeners.delete(onWake);
      };
      this.#listeners.add(onWake);
      this.#pending.set(String(id), (message) => {
        cleanup();
        if (message.error) {
          resolve({
            ok: false,
            error: { code: message.error.code, message: message.error.message },
          });
        } else {
          resolve({ ok: true, result: (message.result ?? {}) as JsonObject });
        }
      });
      this.#write(params === undefined ? { id, method } : { id, method, params });
    });
  }

  /** Like `request`, but a JSON-RPC error is an exception. */
  async call(method: string, params: JsonObject | undefined, timeoutMs?: number) {
    const answer = await this.request(method, params, timeoutMs);
    if (!answer.ok) {
      throw new Error(`${method} failed: ${answer.error.code} ${answer.error.message}`);
    }
    return answer.result;
  }

  /**
   * Resolves with the first notification at or after `fromIndex` that satisfies `predicate`.
   */
  waitForNotification(
    predicate: (notification: Notification) => boolean,
    options: { fromIndex?: number; timeoutMs: number; what: string },
  ): Promise<Notification> {
    let scanned = options.fromIndex ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (; scanned < this.notifications.length; scanned += 1) {
          const candidate = this.notifications[scanned]!;
          if (predicate(candidate)) {
            cleanup();
            resolve(candidate);
            return true;
          }
        }
        if (this.#exited) {
          cleanup();
          reject(this.#exitError(`while waiting for ${options.what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`codex app-server: no ${options.what} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(onWake);
      };
      const onWake = () => {
        check();
      };
      this.#listeners.add(onWake);
      check();
    });
  }

  async initialize(clientName: string, experimentalApi: boolean): Promise<JsonObject> {
    const result = await this.call('initialize', {
      clientInfo: { name: clientName, title: 'Skein home recorder', version: '1.0.0' },
      capabilities: { experimentalApi },
    });
    this.notify('initialized');
    return result;
  }

  #exitError(when: string): Error {
    return new Error(
      `codex app-server exited ${when}; stderr tail: ${this.stderr.join('').slice(-2000)}`,
    );
  }

  /** Closes stdin (Codex flushes and exits), killing the process after `graceMs`. */
  async close(graceMs = 10_000): Promise<number | null> {
    if (!this.#exited) this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    const code = await this.#exit;
    clearTimeout(timer);
    return code;
  }
}
