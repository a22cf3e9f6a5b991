// Backfill and state-DB listing speed on synthetic legacy Codex homes of 1,000 and 10,000
// threads (~26 KB, 3 turns each). Targets at 10,000 threads on 2 cores: backfill <= 1.2 s,
// peak RSS <= 250 MB; a list page of 50 <= 2 ms. Homes are generated once into a cache dir
// under os.tmpdir() and reused; each backfill runs in a fresh child process so its peak RSS is
// its own. Run after `pnpm --filter @skein/rollout... build`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchThreadId, writeDatedRollout } from '../../../scripts/bench-home.mjs';

// SKEIN_BENCH_SCALE=1 adds issue 18's scale row: 100,000 threads (~2.6 GB generated once into
// the cache dir; first backfill time, peak RSS <= 250 MB, list pages).
const SCALE = process.env.SKEIN_BENCH_SCALE === '1';
const SIZES = (process.env.SKEIN_BENCH_SIZES ?? (SCALE ? '1000,10000,100000' : '1000,10000'))
  .split(',')
  .map(Number);
// Backfill helper threads (opt-in in the library; SKEIN_BENCH_WORKERS=1 measures that path).
const WORKERS = Number(process.env.SKEIN_BENCH_WORKERS ?? 0);
const CACHE = join(tmpdir(), 'skein-backfill-bench-cache-v2');
const TARGET_BACKFILL_MS = 1200;
const TARGET_RSS_MB = 250;
const TARGET_PAGE_MS = 2;
const PROJECTS = 7;

function rolloutLines(id, i, startMs) {
  const ts = (k) => new Date(startMs + k * 1000).toISOString();
  const lines = [
    {
      timestamp: ts(0),
      type: 'session_meta',
      payload: {
        id,
        timestamp: ts(0),
        cwd: `/home/dev/projects/p${i % PROJECTS}`,
        originator: 'codex_cli_rs',
        cli_version: '0.131.0',
        source: i % 10 === 0 ? 'exec' : 'cli',
        model_provider: i % 5 === 0 ? 'azure' : 'openai',
        base_instructions: {
          text: 'You are Codex, a coding agent. Follow the repository conventions. '.repeat(170),
        },
        ...(i % 3 === 0
          ? {
              git: {
                commit_hash: 'abcdef0123456789abcdef0123456789abcdef01',
                branch: 'main',
                repository_url: 'https://example.invalid/p.git',
              },
            }
          : {}),
      },
    },
  ];
  for (let turn = 1; turn <= 3; turn += 1) {
    const text = `Turn ${turn} of thread ${i}: please look at module ${i % 97} and explain the failing test ${'detail '.repeat(20)}`;
    const reply = `Here is what I found for turn ${turn}. ${'The function returns early when the cache is cold. '.repeat(12)}`;
    lines.push(
      {
        timestamp: ts(turn * 10),
        type: 'event_msg',
        payload: { type: 'task_started', turn_id: `turn-${turn}`, model_context_window: 258400 },
      },
      {
        timestamp: ts(turn * 10),
        type: 'turn_context',
        payload: {
          turn_id: `turn-${turn}`,
          cwd: `/home/dev/projects/p${i % PROJECTS}`,
          approval_policy: 'on-request',
          sandbox_policy: { type: 'workspace-write', network_access: false },
          model: 'gpt-5',
          effort: 'medium',
          summary: 'auto',
        },
      },
      {
        timestamp: ts(turn * 10 + 1),
        type: 'response_item',
        payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
      },
      {
        timestamp: ts(turn * 10 + 1),
        type: 'event_msg',
        payload: {
          type: 'user_message',
          message: text,
          images: [],
          local_images: [],
          text_elements: [],
        },
      },
      {
        timestamp: ts(turn * 10 + 2),
        type: 'response_item',
        payload: {
          type: 'reasoning',
          id: `rs_${turn}`,
          summary: [{ type: 'summary_text', text: 'Thinking about the test. '.repeat(10) }],
          encrypted_content: 'gAAAA'.repeat(60),
        },
      },
      {
        timestamp: ts(turn * 10 + 3),
        type: 'response_item',
        payload: {
          type: 'function_call',
          name: 'shell',
          arguments: JSON.stringify({
            command: ['bash', '-lc', `rg -n "cache" src/module${i % 97}`],
          }),
          call_id: `call_${turn}`,
        },
      },
      {
        timestamp: ts(turn * 10 + 4),
        type: 'response_item',
        payload: {
          type: 'function_call_output',
          call_id: `call_${turn}`,
          output: `src/module${i % 97}/index.ts:12: const cache = new Map();\n`.repeat(8),
        },
      },
      {
        timestamp: ts(turn * 10 + 5),
        type: 'event_msg',
        payload: { type: 'agent_message', message: reply },
      },
      {
        timestamp: ts(turn * 10 + 5),
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: reply }],
        },
      },
      {
        timestamp: ts(turn * 10 + 6),
        type: 'event_msg',
        payload: {
          type: 'token_count',
          info: {
            total_token_usage: {
              input_tokens: 1000 * turn,
              cached_input_tokens: 0,
              output_tokens: 50 * turn,
              reasoning_output_tokens: 10,
              total_tokens: 1050 * turn,
            },
            last_token_usage: {
              input_tokens: 1000,
              cached_input_tokens: 0,
              output_tokens: 50,
              reasoning_output_tokens: 10,
              total_tokens: 1050,
            },
            model_context_window: 258400,
          },
          rate_limits: null,
        },
      },
      {
        timestamp: ts(turn * 10 + 6),
        type: 'event_msg',
        payload: { type: 'task_complete', turn_id: `turn-${turn}`, last_agent_message: reply },
      },
    );
  }
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

function ensureHome(count) {
  const home = join(CACHE, `home-${count}`);
  if (existsSync(join(home, '.complete'))) return home;
  rmSync(home, { recursive: true, force: true });
  const base = Date.UTC(2026, 0, 1);
  let bytes = 0;
  for (let i = 0; i < count; i += 1) {
    const startMs = base + i * 600_000; // 10 minutes apart
    const id = benchThreadId(startMs, i);
    bytes += writeDatedRollout(home, {
      id,
      createdMs: startMs,
      text: rolloutLines(id, i, startMs),
      archived: i % 20 === 19,
      mtimeMs: startMs + 60_000,
    });
  }
  writeFileSync(
    join(home, 'session_index.jsonl'),
    `${JSON.stringify({ id: benchThreadId(base, 0), thread_name: 'First thread', updated_at: new Date(base).toISOString() })}\n`,
  );
  writeFileSync(join(home, '.complete'), String(bytes));
  return home;
}

// ---- child mode: one measured backfill ----
if (process.argv[2] === '--measure') {
  const [, , , home, sqliteHome] = process.argv;
  const { initStateDb } = await import('../dist/index.js');
  // The main thread's own CPU time (Linux): what bounds the wall time when a core is free.
  const mainThreadMs = () => {
    try {
      const stat = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8');
      return Number(stat.split(' ')[0]) / 1e6;
    } catch {
      return Number.NaN;
    }
  };
  const mainStart = mainThreadMs();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let last;
  const db = await initStateDb({
    codexHome: home,
    sqliteHome,
    backfill: { workers: WORKERS },
    onProgress: (p) => {
      last = p;
    },
  });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const mainMs = mainThreadMs() - mainStart;
  const rss = process.resourceUsage().maxRSS / 1024;
  const count = db.sqlite.prepare('select count(*) as n from threads').get().n;
  await db.close();
  process.stdout.write(
    JSON.stringify({
      ms,
      cpuMs,
      mainMs,
      rss,
      count,
      bytes: last?.bytesTotal ?? 0,
      failed: last?.filesFailed ?? 0,
    }),
  );
  process.exit(0);
}

const { StateRuntime, listThreads } = await import('@skein/state').catch(
  () => import('../../state/dist/index.js'),
);

function time(fn, runs) {
  return (async () => {
    const samples = [];
    for (let i = 0; i < runs; i += 1) {
      const t = performance.now();
      await fn();
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    return {
      median: samples[Math.floor(samples.length / 2)],
      p95: samples[Math.floor(samples.length * 0.95)],
    };
  })();
}

const mark = (ok) => (ok ? 'ok  ' : 'SLOW');
console.log('state-db backfill + listing (synthetic legacy homes, ~26 KB / 3 turns per thread)');
if (!SIZES.includes(100000)) {
  console.log(
    'scale row (100,000 threads: first backfill, peak RSS, list pages) not run: SKEIN_BENCH_SCALE=1 runs it (~2.6 GB home, a few minutes)',
  );
}
console.log(
  `machine: ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )} (timings are wall-clock; a loaded machine inflates them), backfill helper threads: ${WORKERS}`,
);
for (const count of SIZES) {
  const t0 = performance.now();
  const home = ensureHome(count);
  const genMs = performance.now() - t0;
  const sqliteHome = mkdtempSync(join(tmpdir(), 'skein-backfill-bench-db-'));
  try {
    const out = JSON.parse(
      execFileSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--measure', home, sqliteHome],
        { encoding: 'utf8' },
      ),
    );
    const mb = out.bytes / 1024 / 1024;
    console.log(
      `\n${count} threads (${mb.toFixed(0)} MB${genMs > 1000 ? `, generated in ${(genMs / 1000).toFixed(1)} s` : ', cached'}):`,
    );
    console.log(
      `  backfill     ${out.ms.toFixed(0).padStart(6)} ms  ${(mb / (out.ms / 1000)).toFixed(0)} MB/s  ${(count / (out.ms / 1000)).toFixed(0)} threads/s  rows=${out.count} failed=${out.failed}` +
        (count === 10000
          ? `   target <= ${TARGET_BACKFILL_MS} ms: ${mark(out.ms <= TARGET_BACKFILL_MS)} (${(out.ms / TARGET_BACKFILL_MS).toFixed(2)}x)`
          : ''),
    );
    console.log(
      `  backfill CPU ${out.cpuMs.toFixed(0).padStart(6)} ms  (user+system of the process, all threads)` +
        (Number.isFinite(out.mainMs)
          ? `; main thread ${out.mainMs.toFixed(0)} ms (wall well above it = waiting for a core)`
          : ''),
    );
    console.log(
      `  peak RSS     ${out.rss.toFixed(0).padStart(6)} MB` +
        (count >= 10000
          ? `                                   target <= ${TARGET_RSS_MB} MB: ${mark(out.rss <= TARGET_RSS_MB)} (${(out.rss / TARGET_RSS_MB).toFixed(2)}x)`
          : ''),
    );

    const db = await StateRuntime.open({ sqliteHome });
    const ctx = db.ctx;
    const first = await listThreads(ctx, { pageSize: 50 });
    const buildStarted = performance.now();
    await listThreads(ctx, { pageSize: 50, searchTerm: 'thread 4242:' });
    console.log(
      `  search index: built by the first search in ${(performance.now() - buildStarted).toFixed(0)} ms (once per DB; triggers keep it current)`,
    );
    const cases = [
      ['first page (created desc)', { pageSize: 50 }],
      ['next page', { pageSize: 50, cursor: first.nextCursor }],
      [
        'backwards page',
        {
          pageSize: 50,
          cursor: (await listThreads(ctx, { pageSize: 50, cursor: first.nextCursor }))
            .backwardsCursor,
          sortDirection: 'asc',
        },
      ],
      ['updated desc', { pageSize: 50, sortKey: 'updatedAt' }],
      ['recency desc', { pageSize: 50, sortKey: 'recencyAt' }],
      ['created asc', { pageSize: 50, sortDirection: 'asc' }],
      ['archived', { pageSize: 50, archived: true }],
      ['source = cli', { pageSize: 50, sources: ['cli'] }],
      ['source = exec (10%)', { pageSize: 50, sources: ['exec'] }],
      ['provider = azure', { pageSize: 50, modelProviders: ['azure'] }],
      ['cwd = one project', { pageSize: 50, cwds: ['/home/dev/projects/p3'] }],
      ['search (common term)', { pageSize: 50, searchTerm: 'module 5' }],
      ['search (rare term)', { pageSize: 50, searchTerm: 'thread 4242:' }],
      ['search (no match)', { pageSize: 50, searchTerm: 'no such words' }],
      ['deep page (cursor at middle)', { pageSize: 50, cursor: null, _mid: true }],
    ];
    for (const [label, params] of cases) {
      let p = params;
      if (params._mid) {
        const all = await listThreads(ctx, { pageSize: Math.min(1000, Math.floor(count / 2)) });
        p = { pageSize: 50, cursor: all.nextCursor };
      }
      const r = await time(() => listThreads(ctx, p), 200);
      console.log(
        `  page of 50: ${label.padEnd(30)} median ${r.median.toFixed(3)} ms  p95 ${r.p95.toFixed(3)} ms  ${mark(r.median <= TARGET_PAGE_MS)} (target <= ${TARGET_PAGE_MS} ms, median)`,
      );
    }
    const { listThreadsWithDb } = await import('../dist/index.js');
    const r = await time(() => listThreadsWithDb(home, { pageSize: 50, stateDb: db }), 50);
    console.log(
      `  page of 50: ${'scan-and-repair (files + DB)'.padEnd(30)} median ${r.median.toFixed(3)} ms  p95 ${r.p95.toFixed(3)} ms  (reads 100 rollout heads first)`,
    );
    await db.close();
  } finally {
    rmSync(sqliteHome, { recursive: true, force: true });
  }
}
