/**
 * Starts a websocket app-server process (Skein's built one or the real codex) and attempts
 * upgrades against it with chosen headers, reporting either the opened connection's answer to
 * `initialize` or the HTTP refusal (status and body).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';

export interface ListeningServer {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Result of a process that refused to start (exited before listening). */
export interface RefusedStart {
  code: number | null;
  stderr: string;
}

const START_TIMEOUT_MS = 30_000;

/** Spawns `command args` and waits for its `listening on ws://…` line (or its exit). */
export async function startListening(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ListeningServer | RefusedStart> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const outcome = await new Promise<string | RefusedStart>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on:? (ws:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
  if (typeof outcome !== 'string') return outcome;
  return {
    url: outcome,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function isListening(value: ListeningServer | RefusedStart): value is ListeningServer {
  return 'url' in value;
}

export type Attempt =
  | { kind: 'open'; initialized: boolean }
  | { kind: 'refused'; status: number; body: string };

export interface AttemptOptions {
  headers?: Record<string, string>;
  origin?: string;
  bearer?: string;
}

const ATTEMPT_TIMEOUT_MS = 10_000;

/** One upgrade; when it opens, sends `initialize` and reports whether it was answered. */
export function attempt(url: string, options: AttemptOptions = {}): Promise<Attempt> {
  const headers = { ...options.headers };
  if (options.bearer !== undefined) headers.Authorization = `Bearer ${options.bearer}`;
  const socket = new WebSocket(url, {
    headers,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
  });
  return new Promise<Attempt>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`upgrade to ${url} neither opened nor was refused`));
    }, ATTEMPT_TIMEOUT_MS);
    const done = (result: Attempt) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(result);
    };
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => done({ kind: 'refused', status: response.statusCode ?? 0, body }));
    });
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          id: 1,
          method: 'initialize',
          params: { clientInfo: { name: 'auth_probe', version: '1' } },
        }),
      );
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { id?: unknown; result?: unknown };
      if (message.id === 1) done({ kind: 'open', initialized: message.result !== undefined });
    });
    socket.on('error', (error) => {
      // 'unexpected-response' handles refusals; anything else is a real failure.
      if (!/Unexpected server response/.test(error.message)) {
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

/** An HS256 JWT over `claims` (the header can be replaced to test refusals). */
export function signJwt(
  secret: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}
