// Runs every benchmark script (`packages/*/bench/*.bench.mjs`, `apps/*/bench/*.bench.mjs`) one
// after another, each in its own process so peak RSS figures are its own. Expects `pnpm build`.
// Pass a substring to run only matching benchmarks: `pnpm bench backfill`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ?? '';
const scripts = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group)).sort()) {
    const dir = join(root, group, name, 'bench');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith('.bench.mjs')) scripts.push(join(dir, file));
    }
  }
}
let failures = 0;
for (const script of scripts) {
  const rel = relative(root, script);
  if (!rel.includes(filter)) continue;
  console.log(`\n=== ${rel}`);
  const result = spawnSync(process.execPath, ['--expose-gc', script], {
    stdio: 'inherit',
    cwd: root,
  });
  if (result.status !== 0) {
    failures += 1;
    console.log(`!!! ${rel} exited with ${result.status ?? result.signal}`);
  }
}
if (scripts.length === 0) console.log('no benchmarks found');
process.exit(failures > 0 ? 1 : 0);
