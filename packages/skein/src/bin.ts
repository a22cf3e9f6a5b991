#!/usr/bin/env node
// The `skein` command (`npx skein`, `npm install -g skein`): `@skein/cli`'s bundled process
// entry, which loads a few files instead of every module of the library (issue 18).
import '@skein/cli/main';
