// A writer process for the store-crash loops (uses the built dist/): opens a store by spec
// (postgres://… or grpc://…), creates or resumes one thread through LiveThread, then appends
// batches of user messages (`seq <n>`) and flushes, printing `ack <last n>` after each flush,
// until killed, until the store fails (prints `failed <reason>`, exits 3) or maxMs passes.
// argv: <spec> <threadId> <batch> <maxMs>
import { LiveThread } from '@skein/thread-store';
import { openThreadStore } from '@skein/thread-stores';

const [spec, threadId, batchText, maxMsText] = process.argv.slice(2);
const batch = Number(batchText);
const deadline = Date.now() + Number(maxMsText);
const metadata = { cwd: '/tmp', modelProvider: 'openai', memoryMode: 'enabled' };
const noGit = { collectGitInfo: async () => null };

function seqsOf(items) {
  return items
    .filter((item) => item.type === 'event_msg' && item.payload?.type === 'user_message')
    .map((item) => /^seq (\d+)$/.exec(item.payload.message ?? ''))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]));
}

let opened;
try {
  opened = await openThreadStore(spec, {});
  const store = opened.store;
  let items = null;
  try {
    items = (await store.loadHistory({ threadId, includeArchived: true })).items;
  } catch (error) {
    if (!/not found|no rollout/i.test(String(error?.message))) throw error;
  }
  let live;
  let next = 1;
  if (items === null) {
    live = await LiveThread.create(
      store,
      {
        threadId,
        source: 'cli',
        originator: 'skein_reliability',
        baseInstructions: null,
        metadata,
      },
      noGit,
    );
    await live.persist();
  } else {
    next = (seqsOf(items).at(-1) ?? 0) + 1;
    live = await LiveThread.resume(
      store,
      { threadId, history: items, includeArchived: true, metadata },
      noGit,
    );
  }
  console.log('writing');
  for (let round = 0; round < 1_000_000 && Date.now() < deadline; round += 1) {
    const batchItems = [];
    for (let i = 0; i < batch; i += 1) {
      batchItems.push({
        type: 'event_msg',
        payload: { type: 'user_message', message: `seq ${next + i}`, images: [], local_images: [] },
      });
    }
    await live.appendItems(batchItems);
    await live.flush();
    next += batch;
    console.log(`ack ${next - 1}`);
  }
  await live.shutdown();
  await opened.close();
  console.log('done');
  process.exit(0);
} catch (error) {
  console.log(`failed ${String(error?.message ?? error).split('\n')[0]}`);
  process.exit(3);
}
