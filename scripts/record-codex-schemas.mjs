// Records the SQLite schemas real Codex binaries create (state_5, thread_history_1) as data
// for @skein/state: `node scripts/record-codex-schemas.mjs` (after `pnpm build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, recordCodexDbs } from '../packages/test-support/dist/index.js';

const outDir = new URL('../packages/state/src/codex-schemas/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });
for (const version of ['0.131.0', '0.169.0']) {
  for (const db of await recordCodexDbs(ensureCodexCli(version))) {
    const file = join(outDir, `${db.database.replace(/\.sqlite$/, '')}-${version}.json`);
    writeFileSync(file, `${JSON.stringify(db, null, 2)}\n`);
    console.log(`${file}: ${db.migrations.length} migrations, ${db.schema.length} objects`);
  }
}
