#!/usr/bin/env node
/**
 * No source file over 500 lines (issue 17): a file that long holds more than one concern, and
 * a newcomer should find any operation from the folder tree alone. Checks every `.ts` under
 * `packages/<pkg>/src` and `apps/<app>/src`; fails naming each file over the limit that is not
 * on the allowlist below, and each allowlisted file that is no longer over it (so the list only
 * shrinks). Run by `pnpm lint`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 500;

/** Files still to split, each with the split it waits for. Remove an entry once it is done. */
const ALLOWED = new Map([]);

const root = fileURLToPath(new URL('..', import.meta.url));

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') yield* sourceFiles(path);
    } else if (entry.name.endsWith('.ts')) {
      yield path;
    }
  }
}

const problems = [];
const seen = new Set();
for (const group of ['packages', 'apps']) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    let files;
    try {
      files = [...sourceFiles(join(root, group, entry.name, 'src'))];
    } catch {
      continue; // a package without src/
    }
    for (const file of files) {
      const name = relative(root, file);
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      if (lines <= MAX_LINES) continue;
      seen.add(name);
      if (!ALLOWED.has(name)) problems.push(`${name}: ${lines} lines (limit ${MAX_LINES})`);
    }
  }
}
for (const name of ALLOWED.keys()) {
  if (!seen.has(name)) {
    problems.push(`${name} is allowlisted but no longer over ${MAX_LINES} lines: remove it`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`check-file-sizes:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `check-file-sizes: every source file within ${MAX_LINES} lines but ${ALLOWED.size} allowlisted\n`,
);
