// Child process for state-db tests: uses the built dist/ (run `pnpm --filter @skein/rollout... build`).
//   init[-workers] <home> <sqliteHome> <waitMs> <pollMs> (init-workers: helper thread, tiny batches) → prints {"ok":true,"rows":n,"ms":t} or {"ok":false,"code":...}
//   slow-backfill <home> <sqliteHome> <batch> <ms> [bulkBudgetMs] → backfill pausing <ms> after each batch; prints "progress <done>"
//                                                     (with bulkBudgetMs: a bulk first import of any size, that lock budget)
//   backfill-rows <home> <sqliteHome> <prescan> [bulk] → runBackfill (reader thread true/false/only, batches of 7; bulk: as a bulk first import, else batch by batch) → writes {outcome, state, rows, edges, indexes, readerExtracted, bulkImported} to <sqliteHome>/rows.json, prints "done"
//   hold-lease <sqliteHome>                         → claims the backfill (Skein's lease and Codex's row), prints "held", sleeps

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimBackfill, currentLeaseOwner, StateRuntime } from '@skein/state';
import { initStateDb, runBackfill } from '../dist/index.js';

const [mode, ...args] = process.argv.slice(2);
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (mode === 'init' || mode === 'init-workers') {
  const [home, sqliteHome, waitMs, pollMs] = args;
  const backfill = mode === 'init-workers' ? { workers: 1, batchSize: 3 } : {};
  const started = Date.now();
  try {
    const db = await initStateDb({
      codexHome: home,
      sqliteHome,
      waitMs: Number(waitMs),
      pollMs: Number(pollMs),
      backfill,
    });
    const rows = db.sqlite.prepare('select count(*) as n from threads').get().n;
    await db.close();
    console.log(JSON.stringify({ ok: true, rows, ms: Date.now() - started }));
  } catch (error) {
    console.log(
      JSON.stringify({
        ok: false,
        code: error.code ?? null,
        message: String(error.message),
        ms: Date.now() - started,
      }),
    );
  }
  process.exit(0);
} else if (mode === 'slow-backfill') {
  const [home, sqliteHome, batch, pauseMs, bulkBudgetMs] = args;
  const bulkImport =
    bulkBudgetMs === undefined ? false : { minFiles: 1, lockBudgetMs: Number(bulkBudgetMs) };
  const db = await initStateDb({
    codexHome: home,
    sqliteHome,
    backfill: { batchSize: Number(batch), workers: 0, bulkImport },
    onProgress: (p) => {
      console.log(`progress ${p.filesDone}`);
      if (p.filesDone > 0) sleepSync(Number(pauseMs));
    },
  });
  await db.close();
  console.log('done');
  process.exit(0);
} else if (mode === 'backfill-rows') {
  const [home, sqliteHome, prescan, bulk] = args;
  const runtime = await StateRuntime.open({ sqliteHome });
  const { imported, failed, failures, status, readerExtracted, bulkImported } = await runBackfill(
    runtime,
    {
      codexHome: home,
      prescan: prescan === 'only' ? 'only' : prescan === 'true',
      batchSize: 7,
      bulkImport: bulk === 'bulk' ? { minFiles: 1, lockBudgetMs: 60_000 } : false,
    },
  );
  const indexes = runtime.sqlite
    .prepare(
      "select type, name, tbl_name, sql from sqlite_master where type = 'index' order by name",
    )
    .all();
  const state = runtime.sqlite.prepare('select status, last_watermark from backfill_state').get();
  const rows = runtime.sqlite.prepare('select * from threads order by id').all();
  const edges = runtime.sqlite
    .prepare('select * from thread_spawn_edges order by child_thread_id')
    .all();
  await runtime.close();
  // A file, not stdout: process.exit would cut a long pipe write short.
  writeFileSync(
    join(sqliteHome, 'rows.json'),
    JSON.stringify({
      outcome: { imported, failed, failures, status },
      state,
      rows,
      edges,
      indexes,
      readerExtracted,
      bulkImported,
    }),
  );
  console.log('done');
  process.exit(0);
} else if (mode === 'hold-lease') {
  const [sqliteHome] = args;
  const runtime = await StateRuntime.open({ sqliteHome });
  const claim = await claimBackfill(runtime, currentLeaseOwner(), 3_600_000);
  if (!claim.claimed) throw new Error('lease not free');
  console.log('held');
  setTimeout(() => process.exit(0), 120_000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
