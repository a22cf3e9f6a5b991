// ThreadManager cost. First over the InMemoryThreadStore (the manager's own bookkeeping:
// target <= 1 ms per start + turn + flush, LiveThread and store included), then over a LocalThreadStore + state DB on a
// fresh temp Codex home (real files: git probe at create, fsync on flush, SQLite metadata):
// start + one turn + flush, cold resume (target <= 5 ms p50), fork, idle unload, loaded/list
// paging with 10,000 loaded threads (target <= 2 ms), cascade archive/delete of a 40-thread
// spawn tree. Run after `pnpm build`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { initStateDb } from '@skein/rollout';
import { InMemoryThreadStore, LocalThreadStore } from '@skein/thread-store';
import { ThreadManager } from '../dist/index.js';

const N = Number(process.env.SKEIN_BENCH_MANAGER_N ?? 300);
const LOADED = 10_000;

function turn(cwd, turnId, text) {
  const usage = {
    input_tokens: 100,
    cached_input_tokens: 0,
    output_tokens: 10,
    reasoning_output_tokens: 0,
    total_tokens: 110,
  };
  return [
    {
      type: 'event_msg',
      payload: { type: 'task_started', turn_id: turnId, started_at: 1_795_000_000 },
    },
    {
      type: 'turn_context',
      payload: {
        turn_id: turnId,
        cwd,
        approval_policy: 'never',
        sandbox_policy: { type: 'read-only' },
        model: 'gpt-5',
        effort: 'medium',
        summary: 'auto',
      },
    },
    {
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    },
    {
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
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: `re: ${text}` }],
      },
    },
    { type: 'event_msg', payload: { type: 'agent_message', message: `re: ${text}` } },
    {
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: { total_token_usage: usage, last_token_usage: usage, model_context_window: 258_400 },
        rate_limits: null,
      },
    },
    {
      type: 'event_msg',
      payload: { type: 'task_complete', turn_id: turnId, last_agent_message: `re: ${text}` },
    },
  ];
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const fmt = (ms) => `${ms.toFixed(2)} ms`;
const verdict = (value, target) => (value <= target ? 'ok' : 'SLOW');

const home = mkdtempSync(join(tmpdir(), 'skein-manager-bench-'));
const cwd = mkdtempSync(join(tmpdir(), 'skein-manager-bench-cwd-'));
try {
  const stateDb = await initStateDb({ codexHome: home });
  const store = new LocalThreadStore({ codexHome: home, warn: () => {} }, stateDb);
  const manager = new ThreadManager({ store, idleUnloadDelayMs: 0 });
  const rows = [];

  // No git probe here: it spawns `git` (~10+ ms) and is the store layer's cost, measured below.
  const memory = new ThreadManager({
    store: new InMemoryThreadStore(),
    idleUnloadDelayMs: 0,
    liveThreadOptions: { collectGitInfo: async () => null },
  });
  let started = performance.now();
  for (let i = 0; i < N * 10; i += 1) {
    const thread = await memory.startThread({ cwd, ephemeral: false });
    await thread.recordItems(turn(cwd, `turn-${i}`, `memory thread ${i}`));
    await thread.flush();
  }
  const memoryPer = (performance.now() - started) / (N * 10);
  rows.push([
    'in-memory store: start + turn + flush',
    `${fmt(memoryPer)}/thread`,
    '<= 1 ms',
    verdict(memoryPer, 1),
  ]);
  await memory.shutdownAll(60_000);

  started = performance.now();
  const ids = [];
  for (let i = 0; i < N; i += 1) {
    const thread = await manager.startThread({ cwd });
    await thread.recordItems(turn(cwd, `turn-${i}`, `bench thread ${i}`));
    await thread.flush();
    ids.push(thread.threadId);
  }
  const startPer = (performance.now() - started) / N;
  rows.push(['local store: start + turn + flush (git, fsync)', `${fmt(startPer)}/thread`, '', '']);

  started = performance.now();
  const report = await manager.shutdownAll(60_000);
  const shutdownPer = (performance.now() - started) / N;
  rows.push([
    `shutdownAll (${report.completed.length} threads)`,
    fmt(shutdownPer) + '/thread',
    '',
    '',
  ]);

  const resumeTimes = [];
  for (const id of ids) {
    const t0 = performance.now();
    await manager.resumeThread(id, { connectionId: 'bench' });
    resumeTimes.push(performance.now() - t0);
  }
  const resumeP50 = percentile(resumeTimes, 50);
  rows.push([
    'cold resume p50 / p95',
    `${fmt(resumeP50)} / ${fmt(percentile(resumeTimes, 95))}`,
    '<= 5 ms',
    verdict(resumeP50, 5),
  ]);

  const forkTimes = [];
  for (const id of ids.slice(0, Math.max(1, Math.floor(N / 10)))) {
    const t0 = performance.now();
    await manager.forkThread(id);
    forkTimes.push(performance.now() - t0);
  }
  rows.push(['fork p50', fmt(percentile(forkTimes, 50)), '', '']);

  started = performance.now();
  const closed = new Promise((resolve) => {
    let left = ids.length;
    manager.on('closed', () => {
      left -= 1;
      if (left === 0) resolve();
    });
  });
  // The manager's unload timers are unref'd (they never keep a process alive): hold the loop
  // open while waiting for them, or Node may exit mid-wait (code 13).
  const keepAlive = setInterval(() => {}, 1_000);
  manager.removeConnection('bench');
  await closed;
  clearInterval(keepAlive);
  rows.push([`idle unload of ${ids.length} (delay 0)`, fmt(performance.now() - started), '', '']);

  await manager.shutdownAll(60_000);
  for (let i = 0; i < LOADED; i += 1) await manager.startThread({ cwd, ephemeral: true });
  const pageTimes = [];
  let cursor = null;
  for (let i = 0; i < 100; i += 1) {
    const t0 = performance.now();
    const page = manager.listLoadedThreads({ cursor, limit: 100 });
    pageTimes.push(performance.now() - t0);
    cursor = page.nextCursor;
  }
  const pageP50 = percentile(pageTimes, 50);
  rows.push([
    `loaded/list page of 100 (${LOADED} loaded)`,
    fmt(pageP50),
    '<= 2 ms',
    verdict(pageP50, 2),
  ]);
  await manager.shutdownAll(60_000);

  // A spawn tree: root → 3 children → 3 grandchildren each (+ 3 great-grandchildren each).
  const root = await manager.startThread({ cwd });
  await root.recordItems(turn(cwd, 'root', 'tree root'));
  let level = [root];
  let size = 1;
  for (let depth = 0; depth < 3; depth += 1) {
    const next = [];
    for (const parent of level) {
      for (let k = 0; k < 3; k += 1) {
        const child = await manager.spawnSubagent(parent.threadId);
        await child.recordItems(turn(cwd, `c-${depth}-${k}`, `child ${depth}.${k}`));
        next.push(child);
        size += 1;
      }
    }
    level = next;
  }
  await manager.shutdownAll(60_000);
  started = performance.now();
  const archived = await manager.archiveThread(root.threadId);
  rows.push([
    `cascade archive (${archived.archivedThreadIds.length}/${size} threads)`,
    fmt(performance.now() - started),
    '',
    '',
  ]);
  started = performance.now();
  await manager.deleteThread(root.threadId);
  rows.push([`cascade delete (${size} threads)`, fmt(performance.now() - started), '', '']);

  await stateDb.close();
  console.log(`ThreadManager over LocalThreadStore + state DB, N = ${N}`);
  const width = Math.max(...rows.map((row) => row[0].length));
  for (const [what, value, target, ok] of rows) {
    console.log(`  ${what.padEnd(width)}  ${value.padStart(22)}  ${target.padEnd(8)} ${ok}`);
  }
} finally {
  rmSync(home, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
}
