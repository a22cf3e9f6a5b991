// thread/list's storage path in-process: LocalThreadStore.listThreads over a 10,000-thread
// legacy home (the template list.bench.mjs generates), for every sort and filter, in the
// default scan-and-repair mode and DB-only. Isolates the store from JSON-RPC and process
// overhead. Reports medians of wall and CPU time. Target: a page of 50 in <= 2 ms DB-only and
// as close as possible with scan-and-repair (Codex 0.169: ~5 ms).
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStateDb } from '@skein/rollout';
import { LocalThreadStore } from '@skein/thread-store';
import { copySettledHome } from './home-copy.mjs';

const THREADS = Number(process.env.SKEIN_BENCH_THREADS ?? 10_000);
const ROUNDS = Number(process.env.SKEIN_BENCH_ROUNDS ?? 21);
const TEMPLATE = join(tmpdir(), `skein-app-server-bench-home-${THREADS}-v1`);
const TARGET_DB_ONLY_MS = 2;
const TARGET_SCAN_MS = 5;

if (!existsSync(join(TEMPLATE, '.complete'))) {
  console.error(`no template home at ${TEMPLATE}: run list.bench.mjs first (it generates it)`);
  process.exit(1);
}
const home = join(tmpdir(), `skein-store-list-bench-${process.pid}`);
copySettledHome(TEMPLATE, home);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(fn) {
  await fn(); // first look (fills caches) is not what a client sees on every page
  const wall = [];
  const cpu = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const db = await initStateDb({ codexHome: home });
const store = new LocalThreadStore({ codexHome: home }, db);
try {
  const base = { pageSize: 50, allowedSources: ['cli', 'vscode'] };
  const first = await store.listThreads(base);
  const t0 = performance.now();
  console.log(`LocalThreadStore.listThreads, ${THREADS} threads, page of 50 (median of ${ROUNDS})`);
  void t0;
  const cases = [
    ['created_at (default)', base],
    ['next page (cursor)', { ...base, cursor: first.nextCursor }],
    ['updated_at sort', { ...base, sortKey: 'updatedAt' }],
    ['search term', { ...base, searchTerm: 'module 42' }],
    ['cwd filter', { ...base, cwdFilters: ['/home/dev/projects/p3'] }],
    ['provider filter', { ...base, modelProviders: ['openai'] }],
    ['ascending', { ...base, sortDirection: 'asc' }],
  ];
  for (const [label, params] of cases) {
    for (const dbOnly of [true, false]) {
      const r = await measure(() => store.listThreads({ ...params, useStateDbOnly: dbOnly }));
      const target = dbOnly ? TARGET_DB_ONLY_MS : TARGET_SCAN_MS;
      const mode = dbOnly ? 'DB only' : 'scan-and-repair';
      console.log(
        `${`${label}, ${mode}`.padEnd(42)} wall ${r.wall.toFixed(2).padStart(8)} ms  cpu ${r.cpu
          .toFixed(2)
          .padStart(8)} ms  target ${target} ms  ${r.wall <= target ? 'ok' : 'SLOW'}`,
      );
    }
  }
} finally {
  await store.close();
  await db.close();
  rmSync(home, { recursive: true, force: true });
}
