import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  type FixtureManifest,
  type FixtureName,
  installFixtureHome,
  LineChild,
  type ManifestThread,
} from '@skein/test-support';
import { runCli } from '../src/index.js';

export const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** The built CLI on `home` as a child process (its lines read as they come; kill it at will). */
export function cliProcess(home: string, args: readonly string[]): LineChild {
  return new LineChild(process.execPath, [CLI, '--codex-home', home, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SkeinOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** The run's working directory (in-process runs only; default this process's). */
  cwd?: string;
}

/** The environment a run sees: this process's, without colour, plus `overrides`. */
function runEnv(overrides: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...overrides };
  delete env.FORCE_COLOR;
  return env;
}

function argvOf(args: readonly string[], home: string | undefined): string[] {
  return home !== undefined ? ['--codex-home', home, ...args] : [...args];
}

/** A stream that keeps what is written to it (not a terminal, like a pipe). */
class Capture extends Writable {
  readonly #chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/**
 * Runs `skein` in this process through `runCli` from the sources (no TTY: stdin is `input` or
 * empty, output is captured), as a shell would see it: exit code, stdout, stderr.
 */
export async function skein(
  args: readonly string[],
  options: SkeinOptions = {},
): Promise<RunResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli({
    argv: argvOf(args, options.home),
    env: runEnv(options.env),
    stdout,
    stderr,
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export async function skeinJson<T = unknown>(
  args: readonly string[],
  options: { home?: string } = {},
): Promise<T> {
  const result = await skein([...args, '--json'], options);
  if (result.code !== 0) {
    throw new Error(`skein ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/**
 * Runs the built CLI as a real process (no TTY: stdin is closed, output is piped): for the
 * few tests of what only a whole process shows (exit status, real pipes, `main.ts`).
 */
export function skeinProcess(args: readonly string[], options: SkeinOptions = {}): RunResult {
  const result = spawnSync(process.execPath, [CLI, ...argvOf(args, options.home)], {
    env: runEnv(options.env),
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function fixture(name: FixtureName): { home: string; manifest: FixtureManifest } {
  return installFixtureHome(name);
}

export function thread(manifest: FixtureManifest, role: string): ManifestThread {
  const key = (manifest.roles as Record<string, string>)[role];
  const found = manifest.threads.find((t) => t.key === key);
  if (!found) throw new Error(`fixture has no thread for role ${role}`);
  return found;
}

/** Every file under `dir` (relative path → sha256), for "nothing changed" checks. */
export function snapshotFiles(
  dir: string,
  filter: (rel: string) => boolean = () => true,
): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const rel = relative(dir, full);
        if (filter(rel))
          out.set(rel, createHash('sha256').update(readFileSync(full)).digest('hex'));
      }
    }
  };
  walk(dir);
  return out;
}

export function rolloutSnapshot(home: string): Map<string, string> {
  return snapshotFiles(home, (rel) => /(^|\/)rollout-.*\.jsonl(\.zst)?$/.test(rel));
}

export function sqliteFiles(dir: string): string[] {
  return [...snapshotFiles(dir).keys()].filter((rel) => /\.sqlite(-wal|-shm|-journal)?$/.test(rel));
}

export function mtimeOf(path: string): number {
  return statSync(path).mtimeMs;
}

/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`), feeding `input` as typed
 * keys; the exit code is the CLI's (`script -e`).
 */
export function skeinOnTty(
  args: readonly string[],
  options: { home: string; input: string },
): RunResult {
  const quoted = [process.execPath, CLI, '--codex-home', options.home, ...args]
    .map((part) => `'${part.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const result = spawnSync('script', ['-qec', quoted, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    input: options.input,
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
