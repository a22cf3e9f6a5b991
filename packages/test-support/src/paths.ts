import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** `../shared` beside the checkout (CI clones main with shared/ beside it), or `SKEIN_SHARED_DIR`. */
export function sharedDir(): string {
  const fromEnv = process.env.SKEIN_SHARED_DIR;
  const dir = fromEnv ? resolve(fromEnv) : resolve(repoRoot(), '..', 'shared');
  if (!existsSync(join(dir, 'fixtures'))) {
    throw new Error(
      `test-support: no fixtures under ${dir}; set SKEIN_SHARED_DIR to the shared/ folder`,
    );
  }
  return dir;
}

export function fixturesDir(): string {
  return join(sharedDir(), 'fixtures');
}
