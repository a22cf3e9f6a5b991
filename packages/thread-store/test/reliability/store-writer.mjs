// A separate process for the store kill loop (uses the built dist/). Two modes:
//   write <home> <ids,...> <modes,...> <batch> <maxMs>
//     opens the home (initStateDb + LocalThreadStore), creates or resumes each thread through
//     LiveThread (history mode per thread: legacy|paginated), prints `resumed <id> <seqs>` with
//     the sequence numbers it found, then appends batches of user messages round-robin
//     (`seq <n>`), flushes, and prints `ack <id> <last n>` after each flush, until killed or
//     maxMs has passed.
//   check <home> <ids,...>
//     a fresh reader: prints `seqs <id> <n,n,...>` per thread from the store's history.
import { initStateDb } from '@skein/rollout';
import { LiveThread, LocalThreadStore } from '@skein/thread-store';

const [mode, home, idList, ...rest] = process.argv.slice(2);
const ids = idList.split(',');
const provider = 'test-provider';

function seqsOf(items) {
  const out = [];
  for (const item of items) {
    if (item.type !== 'event_msg' || item.payload?.type !== 'user_message') continue;
    const match = /^seq (\d+)$/.exec(item.payload.message ?? '');
    if (match) out.push(Number(match[1]));
  }
  return out;
}

const message = (n) => ({
  type: 'event_msg',
  payload: { type: 'user_message', message: `seq ${n}`, images: [], local_images: [] },
});

const stateDb = await initStateDb({ codexHome: home, defaultProvider: provider });
const store = new LocalThreadStore(
  { codexHome: home, defaultModelProvider: provider, collectGitInfo: async () => null },
  stateDb,
);
const noGit = { collectGitInfo: async () => null };

async function history(threadId) {
  try {
    return (await store.loadHistory({ threadId, includeArchived: true })).items;
  } catch (error) {
    if (/no rollout found|not found/.test(String(error?.message))) return null;
    throw error;
  }
}

if (mode === 'check') {
  for (const threadId of ids) {
    const items = await history(threadId);
    console.log(`seqs ${threadId} ${items === null ? '-' : seqsOf(items).join(',')}`);
  }
  await stateDb.close();
  process.exit(0);
}

const [modeList, batchText, maxMsText] = rest;
const historyModes = modeList.split(',');
const batch = Number(batchText);
const deadline = Date.now() + Number(maxMsText);
const threads = [];
for (const [index, threadId] of ids.entries()) {
  const items = await history(threadId);
  let live;
  let next = 1;
  if (items === null || items.length === 0) {
    live = await LiveThread.create(
      store,
      {
        threadId,
        source: 'cli',
        originator: 'skein_reliability',
        baseInstructions: null,
        historyMode: historyModes[index] ?? 'legacy',
        metadata: { cwd: home, modelProvider: provider, memoryMode: 'enabled' },
      },
      noGit,
    );
    console.log(`resumed ${threadId} -`);
  } else {
    const seqs = seqsOf(items);
    console.log(`resumed ${threadId} ${seqs.join(',')}`);
    next = (seqs.at(-1) ?? 0) + 1;
    live = await LiveThread.resume(
      store,
      {
        threadId,
        history: items,
        includeArchived: true,
        metadata: { cwd: home, modelProvider: provider, memoryMode: 'enabled' },
      },
      noGit,
    );
  }
  threads.push({ threadId, live, next });
}
console.log('writing');
// Bounded by the deadline and by a count; the parent kills long before either.
for (let round = 0; round < 1_000_000 && Date.now() < deadline; round += 1) {
  const thread = threads[round % threads.length];
  const items = [];
  for (let i = 0; i < batch; i += 1) items.push(message(thread.next + i));
  await thread.live.appendItems(items);
  await thread.live.flush();
  thread.next += batch;
  console.log(`ack ${thread.threadId} ${thread.next - 1}`);
}
for (const thread of threads) await thread.live.shutdown();
await store.close();
await stateDb.close();
console.log('done');
process.exit(0);
