// Bundles an app's process entry (`src/main.ts` -> `dist/main.js`) after its `tsc` build: one
// ES module file per entry plus shared chunks, so a start loads a handful of files instead of
// hundreds of modules (issue 18). Run from the app's directory (apps/cli, apps/app-server).
// Dynamic imports (the CLI's command modules) stay their own chunks, loaded when used. The
// backfill and prescan workers are entries of their own: the rollout code starts them as
// `new URL('./<name>-worker.js', import.meta.url)`, so they and every chunk sit in `dist/`
// beside `main.js`. Native and network-only packages stay external (resolved from the app's
// dependencies at run time). The rest of `dist/` (the library, `index.js`) stays tsc's output.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = process.cwd();
const dist = join(root, 'dist');
// esbuild and the rollout package as the app resolves them.
const requireFromApp = createRequire(join(root, 'package.json'));
const { build } = requireFromApp('esbuild');
const rolloutStateDb = join(dirname(requireFromApp.resolve('@skein/rollout')), 'state-db');
const workers = ['backfill-worker', 'prescan-worker'];

// The gRPC store client reads its .proto from `../proto` beside its own module; in the bundle
// that module is a chunk in `dist/`, so the file is copied to `dist/proto` and looked up there.
const remoteDir = dirname(dirname(requireFromApp.resolve('@skein/thread-store-remote')));
const protoBesideBundle = {
  name: 'proto-beside-bundle',
  setup(build) {
    build.onLoad({ filter: /thread-store-remote[\\/]dist[\\/]proto\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes("'../proto/")) throw new Error(`bundle: no proto path in ${args.path}`);
      return { contents: source.replaceAll("'../proto/", "'./proto/"), loader: 'js' };
    });
  },
};
rmSync(join(dist, 'proto'), { recursive: true, force: true });
cpSync(join(remoteDir, 'proto'), join(dist, 'proto'), { recursive: true });

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
  // The native addon, and client libraries with optional native parts or runtime requires:
  // resolved from the app's dependencies. Every @skein package is inside the bundle, so a class
  // (an error type tested with instanceof) has one identity, remote stores included.
  external: ['better-sqlite3', 'pg', 'ws', '@grpc/grpc-js', '@grpc/proto-loader'],
  plugins: [protoBesideBundle],
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
