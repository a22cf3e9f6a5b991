// PostgreSQL thread store benchmark (run after `pnpm build`; starts its own PostgreSQL 15).
//
// 1. List page latency with 100,000 and 1,000,000 threads: first pages and cursor walks,
//    newest-first by created and by updated time, and a per-cwd list. Target: p50 <= 10 ms at
//    1,000,000 threads.
//    Search by term (case-sensitive substring of name/title/preview), first page of 50: a rare
//    term (a few rows; the pg_trgm GIN indexes of state migration 0006 find them), once made of
//    trigrams every row has ('thread 12345') and once distinctive ('12345'), and a common one
//    (every row; the sort index is walked). "before" is the pre-0006 strpos query, run on a
//    plain connection with the same plan inputs.
// 2. Append throughput through gRPC (a thread-store-server child process backed by the same
//    database) with 1, 4 and 16 concurrent writers, one thread each.
//
// The server runs with fsync and synchronous commit ON (real durability). Bounded: a few
// minutes on 2 cores. Prints a plain report.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '@skein/test-support';
import pg from 'pg';
import { PostgresThreadStore } from '../dist/index.js';

// thread-store-remote depends on this package, so it is reached by path (no dependency cycle).
const remoteDist = new URL('../../thread-store-remote/dist/index.js', import.meta.url);
const serverMain = fileURLToPath(
  new URL('../../../apps/thread-store-server/dist/main.js', import.meta.url),
);
const { RemoteThreadStore } = await import(remoteDist.href);

const LIST_TARGET_P50_MS = 10;
const LIST_RUNS = 200;
const APPEND_SECONDS = Number(process.env.SKEIN_BENCH_APPEND_SECONDS ?? 4);
const sizes = (process.env.SKEIN_BENCH_PG_THREADS ?? '100000,1000000').split(',').map(Number);

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1],
  };
}

/** Fills `threads` (and the store's side table) up to `total` rows with generate_series. */
async function seedThreads(client, from, to) {
  const base = Date.UTC(2024, 0, 1);
  // Bulk load like a restore: drop the secondary indexes, insert, rebuild them sorted (much
  // faster than maintaining 15 indexes row by row). The definitions come from the catalog, so
  // the rebuilt indexes are exactly the migrated ones.
  const { rows: indexes } = await client.query(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE tablename = 'threads' AND indexname NOT IN (
       SELECT conname FROM pg_constraint WHERE conrelid = 'threads'::regclass)`,
  );
  for (const index of indexes) await client.query(`DROP INDEX "${index.indexname}"`);
  await client.query("SET maintenance_work_mem = '256MB'");
  await client.query(
    `INSERT INTO threads (id, rollout_path, created_at_ms, updated_at_ms, recency_at_ms, source,
       model_provider, cwd, cli_version, title, preview, first_user_message, sandbox_policy,
       approval_mode, tokens_used, archived, memory_mode, history_mode)
     SELECT gen_random_uuid()::text, '', $1::bigint + i * 1000 + (i % 997),
       $1::bigint + i * 1000 + ((i * 7919) % 86400000), $1::bigint + i * 1000,
       CASE WHEN i % 10 = 0 THEN 'exec' ELSE 'cli' END,
       CASE WHEN i % 3 = 0 THEN 'azure' ELSE 'openai' END,
       '/work/project-' || (i % 50), '0.169.0', 'thread ' || i, 'preview of thread ' || i,
       'preview of thread ' || i, '{"type":"read-only"}', 'on-request', i % 5000,
       CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END, 'enabled', 'legacy'
     FROM generate_series($2::bigint, $3::bigint) AS i`,
    [base, from, to],
  );
  await client.query(
    `INSERT INTO thread_store_threads (thread_id, session_id, item_count)
     SELECT t.id, t.id, 0 FROM threads t
     WHERE NOT EXISTS (SELECT 1 FROM thread_store_threads s WHERE s.thread_id = t.id)`,
  );
  for (const index of indexes) await client.query(index.indexdef);
  await client.query('ANALYZE threads');
  await client.query('ANALYZE thread_store_threads');
}

async function timeList(store, scenario) {
  const samples = [];
  let cursor = null;
  for (let run = 0; run < LIST_RUNS; run += 1) {
    const params = { ...scenario.params, cursor: scenario.walk ? cursor : null };
    const start = performance.now();
    const page = await store.listThreads(params);
    samples.push(performance.now() - start);
    if (page.items.length === 0) throw new Error(`${scenario.name}: empty page`);
    cursor = page.nextCursor;
  }
  return summarize(samples);
}

const LIST_SCENARIOS = [
  { name: 'first page, created desc (50)', params: { pageSize: 50 }, walk: false },
  { name: 'cursor walk, created desc (50)', params: { pageSize: 50 }, walk: true },
  {
    name: 'cursor walk, updated desc (25)',
    params: { pageSize: 25, sortKey: 'updatedAt' },
    walk: true,
  },
  {
    name: 'one cwd, created desc (25)',
    params: { pageSize: 25, cwdFilters: ['/work/project-7'] },
    walk: true,
  },
];

const SEARCH_RUNS = 100;
const SCAN_RUNS = Number(process.env.SKEIN_BENCH_SCAN_RUNS ?? 15);
/** Every 20th seeded thread is archived (hidden from the default list): step past it. */
const visibleNumber = (n) => (n % 20 === 0 ? n + 1 : n);
const SEARCH_SCENARIOS = [
  // One row at 100k, eleven at 1M (thread N and thread N0..N9); a different term each run.
  {
    name: 'search (rare term)',
    term: (run) => `thread ${visibleNumber(10007 + ((run * 7919) % 89000))}`,
  },
  // The same rows by their number alone: only uncommon trigrams, the usual case for real text.
  {
    name: 'search (rare, distinctive term)',
    term: (run) => `${visibleNumber(10007 + ((run * 7919) % 89000))}`,
  },
  // In every row's title (the search matches names and titles, as Codex 0.169's does).
  { name: 'search (common term)', term: () => 'thread ' },
];

async function timeSearch(store, scenario, runs) {
  const samples = [];
  for (let run = 0; run < runs; run += 1) {
    const params = { pageSize: 50, searchTerm: scenario.term(run) };
    const start = performance.now();
    const page = await store.listThreads(params);
    samples.push(performance.now() - start);
    if (page.items.length === 0)
      throw new Error(`${scenario.name}: no match for ${params.searchTerm}`);
  }
  return summarize(samples);
}

/** The search as it was before migration 0006: strpos, which no index can answer. */
const STRPOS_SEARCH_SQL = `SELECT * FROM threads WHERE archived = 0 AND preview <> ''
  AND (strpos(coalesce(name, ''), $1) > 0 OR strpos(title, $1) > 0 OR strpos(preview, $1) > 0)
  ORDER BY created_at_ms DESC, id DESC LIMIT 51`;

/** The search as it is now (what `containsText` builds), for EXPLAIN. */
const LIKE_SEARCH_SQL = `SELECT * FROM threads WHERE archived = 0 AND preview <> ''
  AND ((name IS NOT NULL AND name LIKE $1) OR (title IS NOT NULL AND title LIKE $1)
    OR (preview IS NOT NULL AND preview LIKE $1))
  ORDER BY created_at_ms DESC, id DESC LIMIT 51`;

/** Raw SQL timings (no store overhead), to compare the old predicate with the new one. */
async function timeRawSearch(client, text, pattern, scenario, runs) {
  const samples = [];
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    const result = await client.query(text, [pattern(scenario.term(run))]);
    samples.push(performance.now() - start);
    if (result.rows.length === 0) throw new Error(`${scenario.name}: raw search found nothing`);
  }
  return summarize(samples);
}

/** The access path the planner picks for the current search SQL, in a few words. */
async function planOf(client, term) {
  const { rows } = await client.query(`EXPLAIN ${LIKE_SEARCH_SQL}`, [`%${term}%`]);
  const lines = rows.map((row) => row['QUERY PLAN']);
  const indexes = [...new Set(lines.flatMap((line) => line.match(/idx_\w+/g) ?? []))];
  const scans = [
    ...new Set(
      lines.flatMap(
        (line) => line.match(/(Bitmap Heap|Bitmap Index|Index Only|Index|Seq) Scan/g) ?? [],
      ),
    ),
  ];
  return `${scans.join(' + ')}${indexes.length ? ` on ${indexes.join(', ')}` : ''}`;
}

async function startServer(url) {
  const child = spawn(process.execPath, [serverMain, '--listen', '127.0.0.1:0', '--store', url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`store server exited with ${code}`)));
  });
  return { child, address: JSON.parse(line).listening };
}

const userMessage = (text) => ({
  type: 'event_msg',
  payload: { type: 'user_message', message: text, images: [], local_images: [], text_elements: [] },
});

async function appendThroughput(address, writers, batch, seconds = APPEND_SECONDS) {
  const client = new RemoteThreadStore(address);
  const metadata = { cwd: '/work/bench', modelProvider: 'openai', memoryMode: 'enabled' };
  const ids = [];
  for (let w = 0; w < writers; w += 1) {
    const threadId = randomUUID();
    await client.createThread({ threadId, source: 'exec', originator: 'bench', metadata });
    await client.persistThread(threadId);
    ids.push(threadId);
  }
  const latencies = [];
  let appends = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    ids.map(async (threadId) => {
      let n = 0;
      while (performance.now() < deadline) {
        const items = Array.from({ length: batch }, () =>
          userMessage(`message ${n++} ${'x'.repeat(200)}`),
        );
        const start = performance.now();
        await client.appendItems({ threadId, items });
        latencies.push(performance.now() - start);
        appends += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const threadId of ids) await client.shutdownThread(threadId);
  client.close();
  return {
    appendsPerSec: appends / elapsed,
    itemsPerSec: (appends * batch) / elapsed,
    ...summarize(latencies),
  };
}

const postgres = await startPostgres({ durable: true, settings: { shared_buffers: '256MB' } });
const report = [];
try {
  const url = await postgres.createDatabase('skein_bench');
  const store = await PostgresThreadStore.open({ connectionString: url, maxConnections: 4 });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let seeded = 0;
  report.push('PostgresThreadStore list page latency (in-process, PostgreSQL 15 on 127.0.0.1)');
  for (const size of sizes) {
    const t0 = performance.now();
    await seedThreads(admin, seeded + 1, size);
    seeded = size;
    report.push(
      `  ${size.toLocaleString('en-US')} threads (seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    for (const scenario of LIST_SCENARIOS) {
      await timeList(store, scenario); // warm-up pass
      const stats = await timeList(store, scenario);
      const verdict =
        size >= 1_000_000
          ? `  ${stats.p50 <= LIST_TARGET_P50_MS ? 'meets' : 'MISSES'} p50 <= ${LIST_TARGET_P50_MS} ms (${(stats.p50 / LIST_TARGET_P50_MS).toFixed(2)}x of target)`
          : '';
      report.push(
        `    ${scenario.name.padEnd(34)} p50 ${fmt(stats.p50).padStart(9)}  p95 ${fmt(stats.p95).padStart(9)}  max ${fmt(stats.max).padStart(9)}${verdict}`,
      );
    }
    for (const scenario of SEARCH_SCENARIOS) {
      await timeSearch(store, scenario, 10); // warm-up
      const after = await timeSearch(store, scenario, SEARCH_RUNS);
      const asIs = (term) => term;
      const like = (term) => `%${term}%`; // the bench terms have no LIKE wildcards to escape
      await timeRawSearch(admin, STRPOS_SEARCH_SQL, asIs, scenario, 2); // warm-up
      const before = await timeRawSearch(admin, STRPOS_SEARCH_SQL, asIs, scenario, SCAN_RUNS);
      const now = await timeRawSearch(admin, LIKE_SEARCH_SQL, like, scenario, SEARCH_RUNS);
      report.push(
        `    ${scenario.name.padEnd(34)} p50 ${fmt(after.p50).padStart(9)}  p95 ${fmt(after.p95).padStart(9)}  max ${fmt(after.max).padStart(9)}`,
        `      SQL alone: strpos (before 0006) p50 ${fmt(before.p50)} p95 ${fmt(before.p95)} -> LIKE + pg_trgm p50 ${fmt(now.p50)} p95 ${fmt(now.p95)} (${(before.p50 / now.p50).toFixed(1)}x)`,
        `      plan: ${await planOf(admin, scenario.term(0))}`,
      );
    }
  }
  await admin.end();
  await store.close();

  report.push(
    '',
    `Append throughput through gRPC (thread-store-server child process, fsync on, ${APPEND_SECONDS} s each)`,
  );
  const server = await startServer(url);
  try {
    await appendThroughput(server.address, 2, 1, 1); // warm-up: JIT, connections, caches
    for (const batch of [1, 10]) {
      for (const writers of [1, 4, 16]) {
        const r = await appendThroughput(server.address, writers, batch);
        report.push(
          `  ${String(writers).padStart(2)} writers, ${String(batch).padStart(2)} item(s)/append: ${r.appendsPerSec.toFixed(0).padStart(6)} appends/s ${r.itemsPerSec.toFixed(0).padStart(7)} items/s  append p50 ${fmt(r.p50)} p95 ${fmt(r.p95)}`,
        );
      }
    }
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
} finally {
  await postgres.stop();
}
report.push(
  '',
  `machine: ${cpus().length} cores, load average at end ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')} (other work on the machine skews these figures)`,
);
console.log(report.join('\n'));
