// A fresh reader process for the reliability tests (uses the built dist/): opens the home as
// every app does (initStateDb + LocalThreadStore) and prints one JSON line per thread id:
//   {"id", "name", "archived", "seqs": [n...], "error"?}
// `seqs` are the `seq <n>` texts of injected user response items, in history order.
// argv: <home> <id,...>
import { initStateDb } from '@skein/rollout';
import { LocalThreadStore } from '@skein/thread-store';

const [home, idList] = process.argv.slice(2);
const stateDb = await initStateDb({ codexHome: home });
const store = new LocalThreadStore({ codexHome: home, defaultModelProvider: 'openai' }, stateDb);

function seqsOf(items) {
  const out = [];
  for (const item of items) {
    if (item.type !== 'response_item' || item.payload?.type !== 'message') continue;
    for (const part of item.payload.content ?? []) {
      const match = /^seq (\d+)$/.exec(part?.text ?? '');
      if (match) out.push(Number(match[1]));
    }
  }
  return out;
}

for (const id of idList.split(',')) {
  try {
    const thread = await store.readThread({
      threadId: id,
      includeArchived: true,
      includeHistory: true,
    });
    const archived =
      thread.archivedAtMs !== null || /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath ?? '');
    console.log(
      JSON.stringify({
        id,
        name: thread.name,
        archived,
        seqs: seqsOf(thread.history?.items ?? []),
      }),
    );
  } catch (error) {
    console.log(JSON.stringify({ id, error: String(error?.message ?? error) }));
  }
}
await store.close();
await stateDb.close();
process.exit(0);
