import { defineConfig } from 'vitest/config';
import { skeinVitestConfig } from '../../vitest.shared.js';

// The real codex's JSON schema is generated once per run (test/global-setup.ts).
export default defineConfig(skeinVitestConfig({ test: { globalSetup: ['test/global-setup.ts'] } }));
