// Issue 18's app-server rows, each as a ratio against the real `codex app-server` 0.169.0
// measured in the same run on a copy of the same home: startup including the first backfill,
// a `thread/list` page from the index only (`useStateDbOnly`), and the default page
// (scan-and-repair). The home: THREADS legacy rollouts of 3 turns each (the shape of the
// rollout backfill bench), generated once into a cached temp dir; every start gets a fresh
// settled copy. Codex and Skein alternate (codex, skein, codex, skein, ...) so both see the
// same machine. Needs the codex binary (installed from npm on first use, as the interop tests
// do); without it the rows say so and the script exits 0.
// SKEIN_BENCH_THREADS (default 10,000), SKEIN_BENCH_ROUNDS (page rounds, default 30),
// SKEIN_BENCH_STARTS (starts per peer, default 2).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchThreadId, writeDatedRollout } from '../../../scripts/bench-home.mjs';
import { copySettledHome } from './home-copy.mjs';
import { StdioPeer } from './peer.mjs';

const THREADS = Number(process.env.SKEIN_BENCH_THREADS ?? 10_000);
const ROUNDS = Number(process.env.SKEIN_BENCH_ROUNDS ?? 30);
const STARTS = Number(process.env.SKEIN_BENCH_STARTS ?? 2);
const here = dirname(fileURLToPath(import.meta.url));
const SKEIN = join(here, '..', 'dist', 'main.js');
const TEMPLATE = join(tmpdir(), `skein-vs-codex-bench-home-${THREADS}-v1`);
// better-sqlite3, to peek at the backfill state, as the state package resolves it.
const requireFromState = createRequire(
  join(here, '..', '..', '..', 'packages', 'state', 'package.json'),
);

/** One rollout: session meta and 3 turns (user message, reasoning, a tool call, the answer). */
function rolloutText(id, i, startMs) {
  const ts = (k) => new Date(startMs + k * 1000).toISOString();
  const cwd = `/home/dev/projects/p${i % 13}`;
  const lines = [
    {
      timestamp: ts(0),
      type: 'session_meta',
      payload: {
        id,
        timestamp: ts(0),
        cwd,
        originator: 'codex_cli_rs',
        cli_version: '0.131.0',
        source: i % 5 === 0 ? 'cli' : 'vscode',
        model_provider: 'openai',
        base_instructions: { text: 'You are a coding agent. Follow the conventions. '.repeat(60) },
      },
    },
  ];
  for (let turn = 1; turn <= 3; turn += 1) {
    const text = `Task ${i}, turn ${turn}: refactor module ${i % 97} in project ${i % 13}`;
    const reply = `Done with turn ${turn} of task ${i}. ${'The cache was cold. '.repeat(12)}`;
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
          cwd,
          approval_policy: 'never',
          sandbox_policy: { type: 'read-only' },
          model: 'gpt-5',
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
          type: 'function_call',
          name: 'shell',
          arguments: JSON.stringify({ command: ['rg', '-n', 'cache', `src/m${i % 97}`] }),
          call_id: `call_${turn}`,
        },
      },
      {
        timestamp: ts(turn * 10 + 3),
        type: 'response_item',
        payload: {
          type: 'function_call_output',
          call_id: `call_${turn}`,
          output: `src/m${i % 97}/index.ts:12: const cache = new Map();\n`.repeat(8),
        },
      },
      {
        timestamp: ts(turn * 10 + 4),
        type: 'event_msg',
        payload: { type: 'agent_message', message: reply },
      },
      {
        timestamp: ts(turn * 10 + 4),
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: reply }],
        },
      },
      {
        timestamp: ts(turn * 10 + 5),
        type: 'event_msg',
        payload: { type: 'task_complete', turn_id: `turn-${turn}`, last_agent_message: reply },
      },
    );
  }
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

function generateHome(home) {
  const base = Date.UTC(2025, 10, 1);
  let bytes = 0;
  for (let i = 0; i < THREADS; i += 1) {
    const ms = base + i * 3_137_000;
    const id = benchThreadId(ms, i);
    const text = rolloutText(id, i, ms);
    bytes += writeDatedRollout(home, { id, createdMs: ms, text, mtimeMs: ms + 60_000 });
  }
  writeFileSync(join(home, '.complete'), String(bytes));
  return bytes;
}

/** Whether the home's state DB says the backfill completed (read-only peek). */
function backfillComplete(Database, home) {
  const path = join(home, 'state_5.sqlite');
  if (!existsSync(path)) return false;
  let db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 50 });
    const row = db.prepare('select status from backfill_state where id = 1').get();
    return row?.status === 'complete';
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

const ALL = { modelProviders: [], sourceKinds: ['cli', 'vscode'] };

/**
 * Starts a peer on a fresh copy of the home; the time until it answered `initialize` and its
 * state DB says the first backfill is complete (polled every 10 ms; bounded at 5 minutes).
 */
async function start(kind, Database, codexBinary) {
  const home = join(tmpdir(), `skein-vs-codex-run-${process.pid}-${kind}`);
  rmSync(home, { recursive: true, force: true });
  copySettledHome(TEMPLATE, home);
  const t0 = performance.now();
  const peer =
    kind === 'codex'
      ? new StdioPeer('codex', codexBinary, ['app-server'], home)
      : new StdioPeer('skein', process.execPath, [SKEIN], home);
  await peer.request('initialize', {
    clientInfo: { name: 'skein_bench', version: '1' },
    capabilities: { experimentalApi: true },
  });
  peer.notify('initialized', {});
  const deadline = t0 + 300_000;
  while (!backfillComplete(Database, home)) {
    if (performance.now() > deadline)
      throw new Error(`${kind}: backfill did not complete in 5 min`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { peer, home, ms: performance.now() - t0 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Page times, the two peers alternating request by request. */
async function alternatePages(peers, params) {
  const times = new Map(peers.map((p) => [p.label, []]));
  for (const peer of peers) await peer.request('thread/list', params); // warm
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const peer of round % 2 === 0 ? peers : [...peers].reverse()) {
      const t = performance.now();
      const page = await peer.request('thread/list', params);
      times.get(peer.label).push(performance.now() - t);
      if (page.data.length !== params.limit)
        throw new Error(`${peer.label}: a page of ${page.data.length} threads`);
    }
  }
  return Object.fromEntries([...times].map(([label, samples]) => [label, median(samples)]));
}

function row(label, skeinMs, codexMs, aim) {
  const ratio = skeinMs / codexMs;
  console.log(
    `${label.padEnd(46)} skein ${skeinMs.toFixed(1).padStart(8)} ms   codex ${codexMs.toFixed(1).padStart(8)} ms   ${ratio.toFixed(2)}x  (aim <= ${aim.toFixed(2)}x: ${ratio <= aim ? 'met' : 'MISSED'})`,
  );
}

if (!existsSync(SKEIN)) {
  console.error('build first: pnpm build');
  process.exit(1);
}
let codexBinary;
try {
  const { ensureCodexCli } = await import('@skein/test-support');
  codexBinary = ensureCodexCli('0.169.0').binary;
} catch (error) {
  console.log(
    `codex 0.169.0 unavailable (${error.message}); the codex-referenced rows are skipped`,
  );
  process.exit(0);
}
const Database = requireFromState('better-sqlite3');
if (!existsSync(join(TEMPLATE, '.complete'))) {
  const t0 = performance.now();
  rmSync(TEMPLATE, { recursive: true, force: true });
  const bytes = generateHome(TEMPLATE);
  console.log(
    `generated ${THREADS} threads (${(bytes / 1e6).toFixed(0)} MB) into ${TEMPLATE} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
console.log(
  `app-server vs codex app-server 0.169.0: ${THREADS} threads, 3 turns each; ${STARTS} starts each, ${ROUNDS} page rounds (medians), alternating`,
);
const startTimes = { codex: [], skein: [] };
const homes = [];
let peers = [];
try {
  for (let i = 0; i < STARTS; i += 1) {
    for (const kind of i % 2 === 0 ? ['codex', 'skein'] : ['skein', 'codex']) {
      const started = await start(kind, Database, codexBinary);
      homes.push(started.home);
      startTimes[kind].push(started.ms);
      if (i === STARTS - 1 || STARTS === 1) peers.push(started.peer);
      else {
        await started.peer.close();
        rmSync(started.home, { recursive: true, force: true });
      }
    }
  }
  peers = [peers.find((p) => p.label === 'codex'), peers.find((p) => p.label === 'skein')];
  row(
    'app-server start incl. first backfill',
    median(startTimes.skein),
    median(startTimes.codex),
    0.1,
  );
  console.log(
    `${''.padEnd(46)} (skein ${startTimes.skein.map((t) => t.toFixed(0)).join(', ')} ms; codex ${startTimes.codex.map((t) => t.toFixed(0)).join(', ')} ms)`,
  );
  const dbOnly = await alternatePages(peers, { ...ALL, limit: 25, useStateDbOnly: true });
  row('thread/list page, index only (useStateDbOnly)', dbOnly.skein, dbOnly.codex, 0.35);
  const scan = await alternatePages(peers, { ...ALL, limit: 25 });
  row('thread/list page, default (scan-and-repair)', scan.skein, scan.codex, 0.15);
} finally {
  for (const peer of peers) await peer?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}
