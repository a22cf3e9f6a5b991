// A rename's steps as the store takes them (update-thread-metadata.ts), stopped in the window
// between the name index write and the DB commit (uses the built dist/): opens the home's state
// DB, records the rename intent, and in one DB write transaction sets the name and writes the
// index (an append; a blank name removes the thread's entries, as a clear does); then prints
// "indexed" and blocks before the commit until killed (at most two minutes).
// argv: <home> <threadId> <name>
import {
  appendSessionIndexEntry,
  beginRenameIntent,
  initStateDb,
  removeSessionIndexEntries,
} from '@skein/rollout';
import { patchThreadMetadata, writeTransaction } from '@skein/state';

const [home, threadId, given] = process.argv.slice(2);
const name = given.trim() === '' ? null : given;
const db = await initStateDb({ codexHome: home });
const intent = await beginRenameIntent(db, home, threadId, name);
if (intent === undefined) {
  console.log('no intent');
  process.exit(1);
}
await writeTransaction(db.ctx, async (trx) => {
  await patchThreadMetadata({ ...db.ctx, db: trx }, threadId, { name });
  if (name === null) await removeSessionIndexEntries(home, threadId);
  else await appendSessionIndexEntry(home, threadId, name);
  console.log('indexed');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
});
process.exit(2);
