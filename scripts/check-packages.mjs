#!/usr/bin/env node
/**
 * The published packages, checked as a user gets them (issue 16): every workspace package but
 * test-support is packed with `pnpm pack` (which applies publishConfig and rewrites workspace:
 * and catalog: ranges), then
 *
 *   1. `publint --strict` and `attw --profile esm-only` judge each tarball (pinned devDependencies
 *      of the workspace: no network);
 *   2. the tarballs are installed with npm into an empty project (third-party dependencies from
 *      the npm registry), where a strict `tsc` (skipLibCheck off) compiles a program importing
 *      every package, `npx skein --version` runs the bin, and the README's program of the
 *      `skein` package runs against the installed packages.
 *
 * Step 2 needs the npm registry; when it cannot be reached the script says so in one line and
 * fails (as the interop tier does), never passing without having run. `--lint-only` runs step 1.
 * Exits non-zero on the first broken package, naming it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const lintOnly = process.argv.includes('--lint-only');
const keep = process.env.SKEIN_KEEP_PACK_DIR === '1';
const work = mkdtempSync(join(tmpdir(), 'skein-pack-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);

/** Runs a command, echoing it; returns stdout, or exits with its output on failure. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 600_000,
    ...options,
  });
  if (result.status !== 0) {
    process.stderr.write(
      `check-packages: ${options.what ?? `${command} ${args.join(' ')}`} failed (exit ${result.status ?? result.signal})\n`,
    );
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}\n`);
    cleanupAndExit(1);
  }
  return result.stdout;
}

function cleanupAndExit(code) {
  if (keep) process.stderr.write(`check-packages: kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

/** Workspace packages that are published: every one but the private ones. */
function publishedPackages() {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(root, group, entry.name))
      .map((dir) => ({
        dir,
        manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')),
      }))
      .filter(({ manifest }) => manifest.private !== true),
  );
}

const packages = publishedPackages();
const started = Date.now();

// 1. Pack and lint each package.
for (const { dir, manifest } of packages) {
  run('pnpm', ['pack', '--pack-destination', tarballs], {
    cwd: dir,
    what: `pnpm pack ${manifest.name}`,
  });
}
const files = readdirSync(tarballs)
  .filter((name) => name.endsWith('.tgz'))
  .sort();
if (files.length !== packages.length) {
  process.stderr.write(
    `check-packages: packed ${files.length} tarballs for ${packages.length} packages\n`,
  );
  cleanupAndExit(1);
}
const bin = (name) => join(root, 'node_modules', '.bin', name);
for (const file of files) {
  const tarball = join(tarballs, file);
  const unpacked = join(work, 'unpacked', file.replace(/\.tgz$/, ''));
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const packageDir = join(unpacked, 'package');
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const leaked = JSON.stringify(manifest).match(/"(workspace|catalog):[^"]*"|"source":/);
  if (leaked) {
    process.stderr.write(
      `check-packages: ${manifest.name}'s packed manifest still has ${leaked[0]}\n`,
    );
    cleanupAndExit(1);
  }
  run(bin('publint'), [packageDir, '--strict', '--pack', 'false'], {
    what: `publint ${manifest.name}`,
  });
  run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped'], {
    what: `attw ${manifest.name}`,
  });
  process.stdout.write(
    `check-packages: ${manifest.name}@${manifest.version}: publint and attw clean\n`,
  );
}
if (lintOnly) {
  process.stdout.write(
    `check-packages: ${files.length} packages linted in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  cleanupAndExit(0);
}

// 2. Install into an empty project, compile strictly, run.
const registry = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 30_000 });
if (registry.status !== 0) {
  process.stderr.write(
    'check-packages: the npm registry cannot be reached (npm ping failed); the install check needs it and did not run\n',
  );
  cleanupAndExit(1);
}
const project = join(work, 'project');
mkdirSync(project);
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'skein-consumer', private: true, type: 'module' }, null, 2)}\n`,
);
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
run(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...files.map((file) => join(tarballs, file)),
    `typescript@${rootManifest.devDependencies.typescript}`,
    `@types/node@${rootManifest.devDependencies['@types/node']}`,
  ],
  { cwd: project, what: 'npm install of the tarballs', timeoutMs: 900_000 },
);

const names = packages.map(({ manifest }) => manifest.name).sort();
const identifier = (name) => name.replace(/^@skein\//, 'skein_').replace(/[^a-zA-Z0-9_]/g, '_');
const program = [
  '// Generated by scripts/check-packages.mjs: every published package, imported as a user would.',
  ...names.map((name) => `import * as ${identifier(name)} from '${name}';`),
  "import type { CodexHome, ThreadSummary } from 'skein';",
  "import { openCodexHome } from 'skein';",
  '',
  `export const modules = [${names.map(identifier).join(', ')}];`,
  'export async function demo(dir: string): Promise<ThreadSummary[]> {',
  '  const home: CodexHome = await openCodexHome(dir);',
  '  try {',
  '    const thread = await home.threads.create({ cwd: dir });',
  "    await thread.appendUserMessage('hello');",
  "    await thread.appendAssistantMessage('hi');",
  '    return await home.threads.list();',
  '  } finally {',
  '    await home.close();',
  '  }',
  '}',
  '',
].join('\n');
writeFileSync(join(project, 'index.ts'), program);
writeFileSync(
  join(project, 'tsconfig.json'),
  `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      files: ['index.ts'],
    },
    null,
    2,
  )}\n`,
);
run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', project], {
  cwd: project,
  what: 'strict tsc (skipLibCheck off) over a program importing every package',
});
process.stdout.write(
  `check-packages: a strict tsc compiles a program importing ${names.length} packages\n`,
);

const version = run('npx', ['--no-install', 'skein', '--version'], {
  cwd: project,
  what: 'npx skein --version',
});
process.stdout.write(`check-packages: npx skein --version → ${version.trim()}\n`);

const readme = readFileSync(join(root, 'packages', 'skein', 'README.md'), 'utf8');
const block = /<!-- readme-program[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
if (block === undefined) {
  process.stderr.write('check-packages: packages/skein/README.md has no readme-program block\n');
  cleanupAndExit(1);
}
writeFileSync(join(project, 'program.mjs'), block);
const output = run(process.execPath, ['program.mjs'], {
  cwd: project,
  what: "the README's program",
});
if (!output.includes('assistant: A loosely coiled length of yarn.')) {
  process.stderr.write(`check-packages: the README's program printed:\n${output}\n`);
  cleanupAndExit(1);
}
process.stdout.write(
  `check-packages: the README's program ran on the installed tarballs (${output.trim().split('\n').length} lines)\n`,
);
process.stdout.write(
  `check-packages: ${files.length} packages packed, linted, installed and compiled in ${Math.round((Date.now() - started) / 1000)} s\n`,
);
cleanupAndExit(0);
