import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { removeTempDir } from './temp.js';

export interface CodexCli {
  version: string;
  /** Absolute path of the native `codex` binary. */
  binary: string;
}

/** The Codex releases the interop tests run (the fixture homes were written by these). */
export const CODEX_VERSIONS = ['0.169.0', '0.131.0'] as const;

const CODEX_TRIPLE = 'x86_64-unknown-linux-musl';

/** The cache of installed releases: `SKEIN_CODEX_CACHE` or `~/.cache/skein/codex`. */
export function codexCacheDir(): string {
  return process.env.SKEIN_CODEX_CACHE ?? join(homedir(), '.cache', 'skein', 'codex');
}

function binaryIn(dir: string): string | undefined {
  const vendor = join(dir, 'node_modules', '@openai', 'codex-linux-x64', 'vendor', CODEX_TRIPLE);
  // 0.169 ships the binary in bin/, older releases in codex/.
  return [join(vendor, 'bin', 'codex'), join(vendor, 'codex', 'codex')].find((path) =>
    existsSync(path),
  );
}

/** Installing a release failed (no npm registry, most often); the message is one line. */
export class CodexUnavailableError extends Error {
  override readonly name = 'CodexUnavailableError';
}

/**
 * Installs `@openai/codex@<version>` from npm into the cache (once) and returns its binary.
 * The install goes to a temp dir renamed into place, so concurrent callers never see half a
 * tree. Callers must run the binary with a temp `CODEX_HOME`, never the user's.
 */
export function ensureCodexCli(version: string): CodexCli {
  if (process.env.SKEIN_TEST_TIER === 'fast') {
    throw new Error(
      `a fast-tier test asked for the real codex ${version}: tests that run codex belong in the interop tier (name the file *.interop.test.ts)`,
    );
  }
  const dir = join(codexCacheDir(), version);
  const cached = binaryIn(dir);
  if (cached) return { version, binary: cached };

  const staging = `${dir}.installing-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  try {
    // One quick retry: an unreachable registry should fail in seconds, not after npm's minutes.
    const retries = [
      '--fetch-retries=1',
      '--fetch-retry-mintimeout=2000',
      '--fetch-retry-maxtimeout=5000',
    ];
    const args = [
      'install',
      '--no-save',
      '--no-audit',
      '--no-fund',
      ...retries,
      '--prefix',
      staging,
    ];
    const result = spawnSync('npm', [...args, `@openai/codex@${version}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status !== 0 || !binaryIn(staging)) {
      const npmError =
        result.stderr
          ?.split('\n')
          .find((line) => /\b(code|errno|ERR!?)\b/.test(line))
          ?.trim() ?? (result.error ? String(result.error) : `npm exited ${result.status}`);
      throw new CodexUnavailableError(
        `cannot install @openai/codex@${version} from the npm registry (${npmRegistry()}): ${npmError}`,
      );
    }
    // A leftover without a binary (an install killed midway, before this code) is replaced.
    if (existsSync(dir) && !binaryIn(dir)) removeTempDir(dir);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another process installed it first; theirs is as good as ours.
      if (!binaryIn(dir)) throw error;
    }
  } finally {
    removeTempDir(staging);
  }
  const binary = binaryIn(dir);
  if (!binary) throw new Error(`codex ${version} installed but no binary under ${dir}`);
  return { version, binary };
}

function npmRegistry(): string {
  const result = spawnSync('npm', ['config', 'get', 'registry'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return result.stdout?.trim() || 'registry unknown';
}
