// thread/list through the built app-server on a 10,000-thread Codex home, plus startup time
// (cold: building the state index by backfill; warm: the index exists). The synthetic home
// (legacy-format rollouts, ~4 KB each) is generated once into a cached temp dir and copied per
// run. Targets: a list page in <= 100 ms, cold startup in <= 3 s, warm startup in <= 1 s.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchThreadId, writeDatedRollout } from '../../../scripts/bench-home.mjs';
import { copySettledHome } from './home-copy.mjs';
import { StdioPeer } from './peer.mjs';

const THREADS = Number(process.env.SKEIN_BENCH_THREADS ?? 10_000);
const ROUNDS = Number(process.env.SKEIN_BENCH_ROUNDS ?? 15);
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const TEMPLATE = join(tmpdir(), `skein-app-server-bench-home-${THREADS}-v1`);
const TARGET_PAGE_MS = 100;
const TARGET_COLD_MS = 3000;
const TARGET_WARM_MS = 1000;

/** Writes THREADS legacy rollouts (one turn each) spread over ~a year, newest last. */
function generateHome(home) {
  const start = Date.UTC(2025, 10, 1);
  const instructions = 'You are a coding agent. '.repeat(60);
  for (let i = 0; i < THREADS; i += 1) {
    const ms = start + i * 3_137_000;
    const id = benchThreadId(ms, i);
    const iso = new Date(ms).toISOString();
    const turn = `turn-${i}`;
    const text = `Task ${i}: refactor module ${i % 97} in project ${i % 13}`;
    const lines = [
      {
        timestamp: iso,
        type: 'session_meta',
        payload: {
          id,
          timestamp: iso,
          cwd: `/home/dev/projects/p${i % 13}`,
          originator: 'codex_cli_rs',
          cli_version: '0.131.0',
          source: i % 5 === 0 ? 'cli' : 'vscode',
          model_provider: 'openai',
          base_instructions: { text: instructions },
        },
      },
      {
        timestamp: iso,
        type: 'event_msg',
        payload: { type: 'task_started', turn_id: turn, started_at: Math.floor(ms / 1000) },
      },
      {
        timestamp: iso,
        type: 'turn_context',
        payload: {
          turn_id: turn,
          cwd: `/home/dev/projects/p${i % 13}`,
          approval_policy: 'never',
          sandbox_policy: { type: 'read-only' },
          model: 'gpt-5',
          summary: 'auto',
        },
      },
      {
        timestamp: iso,
        type: 'response_item',
        payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
      },
      {
        timestamp: iso,
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
        timestamp: iso,
        type: 'event_msg',
        payload: { type: 'agent_message', message: `Done with task ${i}.`, phase: null },
      },
      {
        timestamp: iso,
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: `Done with task ${i}.` }],
        },
      },
      {
        timestamp: iso,
        type: 'event_msg',
        payload: {
          type: 'task_complete',
          turn_id: turn,
          last_agent_message: `Done with task ${i}.`,
          completed_at: Math.floor(ms / 1000) + 2,
          duration_ms: 2000,
        },
      },
    ];
    const rollout = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    writeDatedRollout(home, { id, createdMs: ms, text: rollout });
  }
  writeFileSync(join(home, '.complete'), 'ok');
}

async function startTimed(home) {
  const t0 = performance.now();
  const server = new StdioPeer('skein', process.execPath, [MAIN], home, { timeoutMs: 600_000 });
  await server.request('initialize', { clientInfo: { name: 'bench', version: '1' } });
  return { server, ms: performance.now() - t0 };
}

async function timeRounds(fn) {
  const times = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))],
  };
}

function row(label, ms, target) {
  const ratio = ms / target;
  const verdict = ratio <= 1 ? 'ok' : 'SLOW';
  console.log(
    `${label.padEnd(42)} ${ms.toFixed(1).padStart(9)} ms   target ${String(target).padStart(5)} ms   ${(ratio * 100).toFixed(0).padStart(4)}%  ${verdict}`,
  );
}

if (!existsSync(MAIN)) {
  console.error('build first: pnpm --filter @skein/app-server... build');
  process.exit(1);
}
if (!existsSync(join(TEMPLATE, '.complete'))) {
  const t0 = performance.now();
  rmSync(TEMPLATE, { recursive: true, force: true });
  generateHome(TEMPLATE);
  console.log(
    `generated ${THREADS} threads into ${TEMPLATE} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
const home = join(tmpdir(), `skein-app-server-bench-run-${process.pid}`);
copySettledHome(TEMPLATE, home);
try {
  console.log(`thread/list on ${THREADS} threads (${ROUNDS} rounds each; median / p95)`);
  const cold = await startTimed(home);
  row('startup, cold (incl. backfill)', cold.ms, TARGET_COLD_MS);
  const server = cold.server;
  const all = { modelProviders: [], sourceKinds: ['cli', 'vscode'] };
  const first = await server.request('thread/list', { ...all, limit: 25 });
  if (first.data.length !== 25) throw new Error(`first page has ${first.data.length} threads`);
  const cases = [
    [
      'first page (limit 25, scan-and-repair)',
      () => server.request('thread/list', { ...all, limit: 25 }),
    ],
    [
      'next page (cursor)',
      () => server.request('thread/list', { ...all, limit: 25, cursor: first.nextCursor }),
    ],
    [
      'first page, DB only',
      () => server.request('thread/list', { ...all, limit: 25, useStateDbOnly: true }),
    ],
    [
      'next page, DB only',
      () =>
        server.request('thread/list', {
          ...all,
          limit: 25,
          useStateDbOnly: true,
          cursor: first.nextCursor,
        }),
    ],
    [
      'first page, updated_at sort',
      () => server.request('thread/list', { ...all, limit: 25, sortKey: 'updated_at' }),
    ],
    [
      // The home has no DB: Skein creates 0.131's, whose recency lives in the sidecar.
      'first page, recency_at sort (sidecar)',
      () => server.request('thread/list', { ...all, limit: 25, sortKey: 'recency_at' }),
    ],
    [
      'next page, recency_at sort, DB only',
      () =>
        server.request('thread/list', {
          ...all,
          limit: 25,
          sortKey: 'recency_at',
          useStateDbOnly: true,
          cursor: first.nextCursor,
        }),
    ],
    [
      'search term, first page',
      () => server.request('thread/list', { ...all, limit: 25, searchTerm: 'module 42' }),
    ],
    [
      'cwd filter, first page',
      () => server.request('thread/list', { ...all, limit: 25, cwd: '/home/dev/projects/p3' }),
    ],
  ];
  for (const [label, fn] of cases) {
    const { median, p95 } = await timeRounds(fn);
    row(`${label} (median)`, median, TARGET_PAGE_MS);
    console.log(`${''.padEnd(42)} p95 ${p95.toFixed(1)} ms`);
  }
  await server.close();
  const warm = await startTimed(home);
  row('startup, warm (index exists)', warm.ms, TARGET_WARM_MS);
  await warm.server.close();
} finally {
  rmSync(home, { recursive: true, force: true });
}
