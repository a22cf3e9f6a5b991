import type { ViteUserConfig } from 'vitest/config';

/**
 * One vitest setup for every package: workspace packages resolve to their `src/` through the
 * `source` export condition, so a change is tested without rebuilding its dependencies.
 * Real files, real SQLite and real processes make tests slower than unit tests usually are,
 * hence the generous timeouts.
 */
export function skeinVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  // No `import`/`module` here: vite decides those per import, and forcing `import` makes
  // `require()` inside CommonJS packages (pg → pg-pool) load their ESM builds.
  const conditions = ['source', 'node', 'default'];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['source'] } },
    ...overrides,
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      ...overrides.test,
    },
  };
}
