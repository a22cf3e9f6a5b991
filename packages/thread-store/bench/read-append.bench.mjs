// Thread history benchmark, the shape of Codex's `thread_history_benchmark_10_000_items`:
// one rollout of 1 session meta + 1 user message + 10,000 user messages of 1,024 characters
// (~11 MB), read 20 times through the SQLite-backed read and through a live writer (p50, p95,
// max), plus append throughput with a flush every 50 items. Imports the built dist.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newThreadId, StateRuntime } from '@skein/state';
import { LiveThread, LocalThreadStore } from '../dist/index.js';

const ITEMS = 10_000;
const RUNS = 20;
const FLUSH_EVERY = 50;
const MESSAGE = 'x'.repeat(1024);
const noGit = async () => null;

function userMessage(text) {
  return {
    type: 'event_msg',
    payload: {
      type: 'user_message',
      message: text,
      images: [],
      local_images: [],
      text_elements: [],
    },
  };
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (index) => sorted[Math.min(sorted.length - 1, index)];
  return {
    p50: at(Math.floor(sorted.length / 2)),
    p95: at(Math.floor((sorted.length * 95) / 100)),
    max: sorted[sorted.length - 1],
  };
}

const ms = (value) => `${value.toFixed(1)}ms`;

async function timed(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function createParams(cwd) {
  return {
    threadId: newThreadId(),
    source: 'cli',
    originator: 'skein_bench',
    baseInstructions: null,
    metadata: { cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
  };
}

const root = join(tmpdir(), `skein-thread-store-bench-${process.pid}`);
const home = join(root, 'home');
const cwd = join(root, 'project');
mkdirSync(home, { recursive: true });
mkdirSync(cwd, { recursive: true });

try {
  const stateDb = await StateRuntime.open({ sqliteHome: home, defaultProvider: 'test-provider' });
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: 'test-provider', collectGitInfo: noGit },
    stateDb,
  );

  // Append throughput through the store (history only), one item per append.
  const params = createParams(cwd);
  await store.createThread(params);
  const threadId = params.threadId;
  const append = await timed(async () => {
    await store.appendItems({ threadId, items: [userMessage('Hello from user')] });
    for (let index = 0; index < ITEMS; index += 1) {
      await store.appendItems({ threadId, items: [userMessage(MESSAGE)] });
      if ((index + 1) % FLUSH_EVERY === 0) await store.flushThread(threadId);
    }
    await store.persistThread(threadId);
  });
  const path = store.liveRolloutPath(threadId);
  const rolloutBytes = statSync(path).size;
  await store.shutdownThread(threadId);
  console.log(
    `append (ThreadStore.appendItems, flush every ${FLUSH_EVERY}): ${ITEMS + 1} items in ${ms(append.ms)} ` +
      `= ${Math.round(((ITEMS + 1) / append.ms) * 1000)} items/s`,
  );

  // The same through LiveThread with metadata sync into SQLite (shorter run).
  const liveItems = 2_000;
  const live = await LiveThread.create(store, createParams(cwd), { collectGitInfo: noGit });
  const liveRun = await timed(async () => {
    for (let index = 0; index < liveItems; index += 1) {
      await live.appendItems([userMessage(MESSAGE)]);
      if ((index + 1) % FLUSH_EVERY === 0) await live.flush();
    }
    await live.shutdown();
  });
  console.log(
    `append (LiveThread + SQLite metadata sync, flush every ${FLUSH_EVERY}): ${liveItems} items in ${ms(liveRun.ms)} ` +
      `= ${Math.round((liveItems / liveRun.ms) * 1000)} items/s`,
  );

  // Index the big thread in SQLite (the row a live thread would have left).
  await store.updateThreadMetadata({
    threadId,
    patch: { rolloutPath: path, preview: 'Hello from user', firstUserMessage: 'Hello from user' },
  });

  const expected = ITEMS + 2;
  async function runReads(label, read) {
    await read();
    const samples = [];
    for (let run = 0; run < RUNS; run += 1) {
      const { result, ms: took } = await timed(read);
      if (result !== expected)
        throw new Error(`${label}: expected ${expected} items, got ${result}`);
      samples.push(took);
    }
    const { p50, p95, max } = percentiles(samples);
    console.log(
      `${ITEMS}-item thread history ${label} benchmark: rollout_bytes=${rolloutBytes} ` +
        `p50=${ms(p50)} p95=${ms(p95)} max=${ms(max)} (${Math.round(rolloutBytes / 1e6 / (p50 / 1000))} MB/s at p50)`,
    );
  }

  await runReads('SQLite', async () => {
    const thread = await store.readThread({ threadId, includeHistory: true });
    return thread.history.items.length;
  });

  const noDb = new LocalThreadStore({ codexHome: home, collectGitInfo: noGit });
  await noDb.resumeThread({
    threadId,
    rolloutPath: path,
    includeArchived: true,
    metadata: { cwd, modelProvider: 'test-provider', memoryMode: 'enabled' },
  });
  await runReads('active writer', async () => {
    const history = await noDb.loadHistory({ threadId, includeArchived: false });
    return history.items.length;
  });
  await noDb.close();
  await store.close();
  await stateDb.close();
  console.log(
    '(no target: the upstream benchmark only reports; compare with Codex on the same machine)',
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
