import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CodexCli {
  version: string;
  /** Absolute path of the native `codex` binary. */
  binary: string;
}

const CODEX_TRIPLE = 'x86_64-unknown-linux-musl';

/**
 * Installs `@openai/codex@<version>` from npm into a cache dir (once) and returns its binary.
 * The cache is `SKEIN_CODEX_CACHE` or `~/.cache/skein/codex`. Callers must run the binary with a
 * temp `CODEX_HOME`, never the user's.
 */
export function ensureCodexCli(version: string): CodexCli {
  const cacheRoot = process.env.SKEIN_CODEX_CACHE ?? join(homedir(), '.cache', 'skein', 'codex');
  const dir = join(cacheRoot, version);
  const vendor = join(dir, 'node_modules', '@openai', 'codex-linux-x64', 'vendor', CODEX_TRIPLE);
  // 0.169 ships the binary in bin/, older releases in codex/.
  const candidates = [join(vendor, 'bin', 'codex'), join(vendor, 'codex', 'codex')];
  const found = (): string | undefined => candidates.find((path) => existsSync(path));
  if (!found()) {
    mkdirSync(dir, { recursive: true });
    const args = ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir];
    execFileSync('npm', [...args, `@openai/codex@${version}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
  }
  const binary = found();
  if (!binary) throw new Error(`codex ${version} installed but no binary under ${vendor}`);
  return { version, binary };
}
