import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const appMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Reads the first stdout line of a child as JSON (bounded by `timeoutMs`). */
export function firstJsonLine<T>(child: ChildProcess, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      reject(new Error(`no output within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch (error) {
        reject(error);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before printing; stderr: ${stderr}`));
    });
  });
}

export interface RunningServer {
  child: ChildProcess;
  address: string;
  /** The JSON line the server printed when ready. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Starts `thread-store-server` on a free loopback port (`args` are added to the command). */
export async function startStoreServer(
  store: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningServer> {
  const command = [appMain, '--listen', '127.0.0.1:0', '--store', store, ...args];
  const child = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const ready = await firstJsonLine<{ listening: string } & Record<string, unknown>>(child);
  return {
    child,
    address: ready.listening,
    ready,
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

/** Runs a fixture script to completion and returns its JSON output lines. */
export async function runScript<T>(
  name: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<T[]> {
  const child = spawn(process.execPath, [fixture(name), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new Error(`${name} printed nothing; stderr: ${stderr}`);
  return lines.map((line) => JSON.parse(line) as T);
}
