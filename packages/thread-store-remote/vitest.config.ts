import { defineConfig } from 'vitest/config';
import { skeinVitestConfig } from '../../vitest.shared.js';

const base = skeinVitestConfig();
// The shared config hands `import` to Node as a resolve condition, which makes `require()` inside
// CommonJS packages (pg → pg-pool) load their ESM builds. Keep `source` for workspace packages.
const conditions = ['source', 'node', 'default'];
export default defineConfig({
  ...base,
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
});
