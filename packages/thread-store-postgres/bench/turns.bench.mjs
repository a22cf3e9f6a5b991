// listTurns / listItems on PostgreSQL for a long thread (run after `pnpm build`; starts its own
// PostgreSQL 15). Cold: a store with its history cache off reads the whole thread in one ordered
// query per page, target <= 2x a plain loadHistory. Warm: the default store keeps the parsed
// history and reads only new rows, target p50 <= 20 ms per page. Bounded: about a minute.
import { newThreadId } from '@skein/state';
import { startPostgres } from '@skein/test-support';
import { PostgresThreadStore } from '../dist/index.js';

const TURNS = Number(process.env.SKEIN_BENCH_PG_TURNS ?? 5000);
const RUNS = 30;
/** A cold page must cost at most this many loadHistory calls of the same thread. */
const COLD_TARGET_RATIO = 2;
const WARM_TARGET_MS = 20;

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function measure(run) {
  await run(); // warm
  const samples = [];
  for (let index = 0; index < RUNS; index += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

function turnItems(turnId) {
  const now = Math.floor(Date.now() / 1000);
  return [
    { type: 'event_msg', payload: { type: 'task_started', turn_id: turnId, started_at: now } },
    {
      type: 'event_msg',
      payload: {
        type: 'user_message',
        message: `question for ${turnId}`,
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
        content: [{ type: 'output_text', text: `A longer answer for ${turnId}. `.repeat(8) }],
      },
    },
    { type: 'event_msg', payload: { type: 'agent_message', message: `answer ${turnId}` } },
    {
      type: 'event_msg',
      payload: { type: 'task_complete', turn_id: turnId, completed_at: now },
    },
  ];
}

const server = await startPostgres();
let store;
let cold;
try {
  const url = await server.createDatabase();
  store = await PostgresThreadStore.open({ connectionString: url });
  cold = await PostgresThreadStore.open({ connectionString: url, historyCacheBytes: 0 });
  const threadId = newThreadId();
  await store.createThread({
    threadId,
    source: 'cli',
    originator: 'bench',
    baseInstructions: null,
    dynamicTools: [],
    metadata: { cwd: '/bench', modelProvider: 'bench', memoryMode: 'enabled' },
  });
  await store.persistThread(threadId);
  const BATCH = 200;
  for (let start = 0; start < TURNS; start += BATCH) {
    const items = [];
    for (let index = start; index < Math.min(TURNS, start + BATCH); index += 1) {
      items.push(...turnItems(`turn-${index}`));
    }
    await store.appendItems({ threadId, items });
  }
  await store.shutdownThread(threadId);

  const middle = await store.listTurns({ threadId, pageSize: Math.floor(TURNS / 2) });
  const itemMiddle = await store.listItems({ threadId, pageSize: TURNS * 2 });
  const cases = [
    ['listTurns first page, 20, summary', (s) => s.listTurns({ threadId, pageSize: 20 })],
    [
      'listTurns newest page, 20, notLoaded',
      (s) => s.listTurns({ threadId, pageSize: 20, sortDirection: 'desc', itemsView: 'notLoaded' }),
    ],
    [
      'listTurns middle page, 20, full',
      (s) => s.listTurns({ threadId, pageSize: 20, cursor: middle.nextCursor, itemsView: 'full' }),
    ],
    ['listItems first page, 100', (s) => s.listItems({ threadId, pageSize: 100 })],
    [
      'listItems middle page, 100',
      (s) => s.listItems({ threadId, pageSize: 100, cursor: itemMiddle.nextCursor }),
    ],
    [
      'listItems of one turn',
      (s) => s.listItems({ threadId, turnId: `turn-${TURNS - 1}`, pageSize: 100 }),
    ],
  ];
  const items = TURNS * 5 + 1;
  console.log(`PostgresThreadStore turns/items: one thread, ${TURNS} turns, ${items} items`);
  const baseline = await measure(() => store.loadHistory({ threadId }));
  console.log(`  loadHistory (baseline)  p50 ${fmt(baseline.p50)}  p95 ${fmt(baseline.p95)}`);
  console.log(
    `  ${'page'.padEnd(38)} ${'cold p50'.padStart(9)} ${'ratio'.padStart(6)}  warm p50   warm p95`,
  );
  let worstRatio = 0;
  let worstWarm = 0;
  for (const [label, run] of cases) {
    const c = await measure(() => run(cold));
    const w = await measure(() => run(store));
    const ratio = c.p50 / baseline.p50;
    worstRatio = Math.max(worstRatio, ratio);
    worstWarm = Math.max(worstWarm, w.p50);
    console.log(
      `  ${label.padEnd(38)} ${fmt(c.p50).padStart(9)} ${ratio.toFixed(2).padStart(5)}x ` +
        `${fmt(w.p50).padStart(9)} ${fmt(w.p95).padStart(10)}`,
    );
  }
  const verdict = (ok) => (ok ? 'OK' : 'MISSED');
  console.log(
    `  worst cold page: ${worstRatio.toFixed(2)}x loadHistory (target <= ${COLD_TARGET_RATIO}x) ` +
      verdict(worstRatio <= COLD_TARGET_RATIO),
  );
  console.log(
    `  worst warm page p50: ${fmt(worstWarm)} (target <= ${WARM_TARGET_MS} ms) ` +
      verdict(worstWarm <= WARM_TARGET_MS),
  );
} finally {
  await cold?.close();
  await store?.close();
  await server.stop();
}
