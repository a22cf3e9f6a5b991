import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a test run's temp dirs go: the run's own directory when the test runner made one
 * (`SKEIN_TEST_TMPDIR`, removed when the run ends), else the system's.
 */
function tempBase(): string {
  const run = process.env.SKEIN_TEST_TMPDIR;
  return run !== undefined && run !== '' && existsSync(run) ? run : tmpdir();
}

export function makeTempDir(prefix = 'skein-test-'): string {
  return mkdtempSync(join(tempBase(), prefix));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = makeTempDir();
  try {
    return await fn(dir);
  } finally {
    removeTempDir(dir);
  }
}
