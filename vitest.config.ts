import { availableParallelism } from 'node:os';
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
