import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FixtureManifest,
  type FixtureName,
  installFixtureHome,
  type ManifestThread,
} from '@skein/test-support';

export const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a real process (no TTY: stdin is closed, output is piped). */
export function skein(
  args: readonly string[],
  options: { home?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  delete env.FORCE_COLOR;
  const fullArgs = options.home !== undefined ? ['--codex-home', options.home, ...args] : [...args];
  const result = spawnSync(process.execPath, [CLI, ...fullArgs], {
    env,
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function skeinJson<T = unknown>(
  args: readonly string[],
  options: { home?: string } = {},
): T {
  const result = skein([...args, '--json'], options);
  if (result.code !== 0) {
    throw new Error(`skein ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
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
