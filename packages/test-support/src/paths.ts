import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root: the nearest ancestor holding `pnpm-workspace.yaml`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 20; i += 1) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('test-support: cannot find the workspace root (no pnpm-workspace.yaml above)');
}

/**
 * `packages/test-support/fixtures/`, inside the repository: one folder per fixture, each with
 * its Codex home in `home-a/`. Found from this file, so `src/` (tests) and `dist/` agree.
 */
export function fixturesDir(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
  if (!existsSync(dir)) throw new Error(`test-support: no fixtures folder at ${dir}`);
  return dir;
}
