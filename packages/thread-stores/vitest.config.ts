import { defineConfig } from 'vitest/config';
import { skeinVitestConfig } from '../../vitest.shared.js';

export default defineConfig(skeinVitestConfig());
