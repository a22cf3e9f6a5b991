#!/usr/bin/env node
// The `skein` process. The build bundles this entry into `dist/main.js` (scripts/bundle.mjs):
// what `node apps/cli/dist/main.js`, the `skein` bin and `@skein/cli/main` run.
import { runMain } from './run-main.js';

await runMain();
