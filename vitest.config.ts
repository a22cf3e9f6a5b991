import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import {
  hasTierTests,
  LongestFirstSequencer,
  packagesWithTests,
  skeinProject,
} from './vitest.shared.js';

/**
 * Every package's tests in one vitest run: one project per package and tier. The fast tier
 * (`pnpm test:fast`) needs nothing but this machine; the interop tier (`pnpm test:interop`)
 * runs the real codex from npm; the reliability tier (`pnpm test:reliability`) kills, corrupts,
 * fuzzes and attacks real processes on real homes. `bash scripts/test.sh` runs all three and
 * sums them up.
 */
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One directory for every temp dir of this run (`makeTempDir` reads `SKEIN_TEST_TMPDIR`; the
 * workers inherit it), removed when the run ends: a full run makes ~1,200 homes and DBs, and
 * they used to stay in the system's temp dir. Readable by others, so a PostgreSQL server started
 * as another user can reach its own data dir inside. A run killed outright leaves it behind.
 */
if (process.env.SKEIN_TEST_TMPDIR === undefined) {
  const runTemp = mkdtempSync(join(tmpdir(), 'skein-test-run-'));
  chmodSync(runTemp, 0o755);
  process.env.SKEIN_TEST_TMPDIR = runTemp;
  process.once('exit', () => rmSync(runTemp, { recursive: true, force: true }));
}

/** Global setups the interop tier of a package needs (files relative to the package). */
const INTEROP_SETUP: Record<string, string[]> = {
  // The real codex's app-server JSON schema, generated once per run.
  'apps/app-server': ['test/global-setup.ts'],
};

/**
 * Test files mostly wait (on processes, PostgreSQL, file locks, timers), so twice as many
 * workers as cores keeps the cores busy; `SKEIN_TEST_WORKERS` overrides.
 */
const workers = Number(process.env.SKEIN_TEST_WORKERS) || Math.min(4, 2 * availableParallelism());

export default defineConfig({
  test: {
    maxWorkers: workers,
    sequence: { sequencer: LongestFirstSequencer },
    projects: packagesWithTests(root).flatMap((dir) => [
      skeinProject(root, dir, 'fast'),
      ...(hasTierTests(join(root, dir, 'test'), 'interop')
        ? [skeinProject(root, dir, 'interop', INTEROP_SETUP[dir] ?? [])]
        : []),
      ...(hasTierTests(join(root, dir, 'test'), 'reliability')
        ? [skeinProject(root, dir, 'reliability')]
        : []),
    ]),
  },
});
