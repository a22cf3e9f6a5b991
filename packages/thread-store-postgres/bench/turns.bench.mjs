// listTurns / listItems on PostgreSQL for a long thread (run after `pnpm build`; starts its own
// PostgreSQL 15). A page is served from one ordered query over the thread's items and the shared
// pagers, so its cost should stay close to a plain loadHistory of the same thread, whatever the
// page or view. Reports p50/p95 per call and the ratio to loadHistory. Bounded: well under a
// minute on 2 cores.
import { newThreadId } from '@skein/state';
import { startPostgres } from '@skein/test-support';
import { PostgresThreadStore } from '../dist/index.js';

const TURNS = Number(process.env.SKEIN_BENCH_PG_TURNS ?? 5000);
const RUNS = 30;
/** A page must cost at most this many loadHistory calls of the same thread. */
const TARGET_RATIO = 2;

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
try {
  const url = await server.createDatabase();
  store = await PostgresThreadStore.open({ connectionString: url });
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
    ['loadHistory (baseline)', () => store.loadHistory({ threadId })],
    ['listTurns first page, 20, summary', () => store.listTurns({ threadId, pageSize: 20 })],
    [
      'listTurns newest page, 20, notLoaded',
      () =>
        store.listTurns({ threadId, pageSize: 20, sortDirection: 'desc', itemsView: 'notLoaded' }),
    ],
    [
      'listTurns middle page, 20, full',
      () =>
        store.listTurns({ threadId, pageSize: 20, cursor: middle.nextCursor, itemsView: 'full' }),
    ],
    ['listItems first page, 100', () => store.listItems({ threadId, pageSize: 100 })],
    [
      'listItems middle page, 100',
      () => store.listItems({ threadId, pageSize: 100, cursor: itemMiddle.nextCursor }),
    ],
    [
      'listItems of one turn',
      () => store.listItems({ threadId, turnId: `turn-${TURNS - 1}`, pageSize: 100 }),
    ],
  ];
  const items = TURNS * 5 + 1;
  console.log(`PostgresThreadStore turns/items: one thread, ${TURNS} turns, ${items} items`);
  let baseline = 0;
  let worst = 0;
  for (const [label, run] of cases) {
    const { p50, p95 } = await measure(run);
    if (baseline === 0) baseline = p50;
    const ratio = p50 / baseline;
    if (label !== cases[0][0]) worst = Math.max(worst, ratio);
    console.log(
      `  ${label.padEnd(40)} p50 ${fmt(p50).padStart(9)}  p95 ${fmt(p95).padStart(9)}  ` +
        `${ratio.toFixed(2)}x loadHistory`,
    );
  }
  console.log(
    `  worst page / loadHistory: ${worst.toFixed(2)}x (target <= ${TARGET_RATIO}x) ` +
      (worst <= TARGET_RATIO ? 'OK' : 'MISSED'),
  );
} finally {
  await store?.close();
  await server.stop();
}
