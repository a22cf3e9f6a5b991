#!/usr/bin/env node
// The `skein` command (`npx skein`, `npm install -g skein`): the CLI of `@skein/cli`.
import { runMain } from '@skein/cli';

await runMain();
