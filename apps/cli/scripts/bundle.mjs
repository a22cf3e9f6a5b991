// Bundles the `skein` process (`dist/main.js`) after `tsc`: one ES module file per entry plus
// shared chunks, so a run loads a handful of files instead of ~360 modules (issue 18). The
// command modules stay dynamic imports (their own chunks, loaded by the command that needs
// them). The backfill and prescan workers are entries of their own: the rollout code starts
// them as `new URL('./<name>-worker.js', import.meta.url)`, so they and every chunk sit in
// `dist/` beside `main.js`. Native and network-only packages stay external (resolved from
// this package's dependencies at run time). `dist/index.js` (the library) stays tsc's output.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const rolloutStateDb = join(
  dirname(fileURLToPath(import.meta.resolve('@skein/rollout'))),
  'state-db',
);
const workers = ['backfill-worker', 'prescan-worker'];

// Chunks of an earlier bundle (their names carry a content hash).
for (const name of readdirSync(dist)) {
  if (/^chunk-[A-Z0-9]+\.js$/.test(name)) rmSync(join(dist, name));
}

const result = await build({
  entryPoints: [
    { in: join(root, 'src', 'main.ts'), out: 'main' },
    ...workers.map((name) => ({ in: join(rolloutStateDb, `${name}.js`), out: name })),
  ],
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  // Native addon, the PostgreSQL driver and the gRPC client (which reads its .proto files).
  external: ['better-sqlite3', 'pg', '@skein/thread-store-remote'],
  // CommonJS dependencies (commander's helpers, cli-table3) call require for Node built-ins.
  banner: {
    js: "import { createRequire as __skeinCreateRequire } from 'node:module'; const require = __skeinCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: !!process.env.SKEIN_BUNDLE_META,
});

for (const name of ['main', ...workers]) {
  if (!existsSync(join(dist, `${name}.js`))) throw new Error(`bundle: dist/${name}.js missing`);
}
if (result.metafile) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.SKEIN_BUNDLE_META, JSON.stringify(result.metafile));
}
