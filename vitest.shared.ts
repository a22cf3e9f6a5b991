import { existsSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { TestProjectInlineConfiguration, ViteUserConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * One vitest setup for every package: workspace packages resolve to their `src/` through the
 * `source` export condition, so a change is tested without rebuilding its dependencies.
 * Real files, real SQLite and real processes make tests slower than unit tests usually are,
 * hence the generous timeouts.
 */

// No `import`/`module` here: vite decides those per import, and forcing `import` makes
// `require()` inside CommonJS packages (pg → pg-pool) load their ESM builds.
const CONDITIONS = ['source', 'node', 'default'];

const TEST_DEFAULTS = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks',
} as const;

/**
 * The interop tier: tests that run the real `codex` binary from npm (differential tests, Codex
 * reading what Skein wrote, the app-server schema). The reliability tier: kill loops,
 * corruption, fuzzing and attacks, bounded for CI (`SKEIN_RELIABILITY=long` runs the long
 * versions). Everything else is the fast tier.
 */
export const INTEROP_TEST_FILES = '**/*.interop.test.ts';
export const RELIABILITY_TEST_FILES = '**/*.reliability.test.ts';
const TEST_FILES = ['test/**/*.test.ts', 'src/**/*.test.ts'];

export type TestTier = 'fast' | 'interop' | 'reliability';

/** The file pattern of a tier's own tests (the fast tier is everything else). */
const TIER_FILES: Record<Exclude<TestTier, 'fast'>, string> = {
  interop: INTEROP_TEST_FILES,
  reliability: RELIABILITY_TEST_FILES,
};

/** A package's own vitest config (`pnpm --filter <pkg> exec vitest run`): both tiers. */
export function skeinVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  return {
    resolve: { conditions: CONDITIONS },
    ssr: { resolve: { conditions: CONDITIONS, externalConditions: ['source'] } },
    ...overrides,
    test: { include: TEST_FILES, ...TEST_DEFAULTS, ...overrides.test },
  };
}

/** Workspace packages (`packages/*`, `apps/*`) that have tests, as paths from `root`. */
export function packagesWithTests(root: string): string[] {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(group, entry.name))
      .filter(
        (dir) => existsSync(join(root, dir, 'package.json')) && existsSync(join(root, dir, 'test')),
      )
      .sort(),
  );
}

/** Whether `dir` holds a test file of `tier` (`*.<tier>.test.ts`, searched recursively). */
export function hasTierTests(dir: string, tier: Exclude<TestTier, 'fast'>): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) =>
    entry.isDirectory()
      ? entry.name !== 'node_modules' && hasTierTests(join(dir, entry.name), tier)
      : entry.name.endsWith(`.${tier}.test.ts`),
  );
}

/**
 * The vitest project of one package in one tier, named `<tier>:<package dir>` (`fast:cli`,
 * `interop:app-server`, `reliability:cli`), so `vitest run --project 'fast:*'` runs a whole tier.
 * `SKEIN_TEST_TIER` lets `ensureCodexCli` refuse to run codex from a fast test.
 */
export function skeinProject(
  root: string,
  dir: string,
  tier: TestTier,
  globalSetup: string[] = [],
): TestProjectInlineConfiguration {
  return {
    resolve: { conditions: CONDITIONS },
    ssr: { resolve: { conditions: CONDITIONS, externalConditions: ['source'] } },
    test: {
      name: `${tier}:${basename(dir)}`,
      root: join(root, dir),
      include: tier === 'fast' ? TEST_FILES : [`test/${TIER_FILES[tier]}`],
      exclude:
        tier === 'fast'
          ? ['**/node_modules/**', ...Object.values(TIER_FILES)]
          : ['**/node_modules/**'],
      env: { SKEIN_TEST_TIER: tier },
      globalSetup,
      ...TEST_DEFAULTS,
      // The long reliability runs (`pnpm bench:reliability`) take minutes per test.
      ...(tier === 'reliability' && process.env.SKEIN_RELIABILITY === 'long'
        ? { testTimeout: 3 * 3_600_000 }
        : {}),
    },
  };
}

/**
 * Longest files first, across every project: vitest's default order keeps each project's
 * files together (alphabetically by project), so a long file of a late project ends the run
 * alone. Uses the durations of the last run in this checkout, else file size.
 */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const weight = (spec: TestSpecification): [number, number] => {
      const key = `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
      const result = cache.getFileTestResults(key);
      return [result?.duration ?? -1, cache.getFileStats(key)?.size ?? 0];
    };
    const weights = new Map(files.map((spec) => [spec, weight(spec)]));
    return [...files].sort((a, b) => {
      const [durationA, sizeA] = weights.get(a)!;
      const [durationB, sizeB] = weights.get(b)!;
      // Files that never ran (no duration) first, largest first; then longest first.
      if (durationA < 0 !== durationB < 0) return durationA < 0 ? -1 : 1;
      return durationA < 0 ? sizeB - sizeA : durationB - durationA;
    });
  }
}
