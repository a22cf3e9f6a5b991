import { type MessagePort, parentPort } from 'node:worker_threads';
import { extractBackfillEntry } from './extract.js';
import { RolloutFileTable } from './file-table.js';
import { CwdNormalizer } from './files.js';
import {
  Control,
  PRESCAN_BLOCK_FILES,
  PRESCAN_WINDOW,
  type PrescanBlockMessage,
  type PrescanStartMessage,
} from './prescan.js';
import { PrescanBatchBuilder, prescannedFile } from './prescan-batch.js';
import { encodeOutcome, type FlatValue, OutcomeTag } from './row-transfer.js';

/*
 * The backfill's reader thread: claims blocks of files in order (`prescan.ts`), reads each
 * file, splits and classifies its lines, parses the few that carry metadata and builds its row
 * exactly as the main thread would (`extractBackfillEntry`), and posts a block's rows as one
 * flat list (`row-transfer.ts`); the main thread then only writes SQLite. A file it does not
 * read (unreadable here, or too big for this thread's small heap) is marked for the main
 * thread, which reads it and reports its own error. Flow control is a shared counter: at most
 * `PRESCAN_WINDOW` blocks are posted and not yet released by the main thread.
 */

function run(start: PrescanStartMessage, port: MessagePort): void {
  const control = new Int32Array(start.control);
  const scan = new PrescanBatchBuilder();
  const cwds = new CwdNormalizer();
  const table = new RolloutFileTable(start.files);
  const count = table.length - start.first;
  const blocks = Math.ceil(count / PRESCAN_BLOCK_FILES);
  let posted = 0;
  /** Posts a block, then waits until the window has room (false: told to stop). */
  const post = (message: PrescanBlockMessage) => {
    port.postMessage(message);
    posted += 1;
    Atomics.store(control, Control.Posted, posted);
    Atomics.notify(control, Control.Posted);
    // Bounded by the timeout and the stop flag.
    for (;;) {
      if (Atomics.load(control, Control.Stop) !== 0) return false;
      const released = Atomics.load(control, Control.Released);
      if (posted - released < PRESCAN_WINDOW) return true;
      Atomics.wait(control, Control.Released, released, 1000);
    }
  };
  // Bounded: every pass claims a new block (the counter only grows).
  for (;;) {
    const block = Atomics.add(control, Control.Claimed, 1);
    if (block >= blocks) return;
    const from = block * PRESCAN_BLOCK_FILES;
    const to = Math.min(count, from + PRESCAN_BLOCK_FILES);
    const outcomes: FlatValue[] = [];
    for (let index = from; index < to; index += 1) {
      const job = table.file(start.first + index);
      scan.reset();
      scan.scanFile(job.path);
      const data = Buffer.from(scan.data.buffer, scan.data.byteOffset, scan.length);
      const prescan = prescannedFile(scan.meta, scan.records, data, 0);
      if (prescan === null) outcomes.push(OutcomeTag.ExtractHere);
      else encodeOutcome(extractBackfillEntry(job, start.defaultProvider, cwds, prescan), outcomes);
    }
    if (!post({ block, count: to - from, outcomes })) return;
  }
}

parentPort?.once('message', (message: { start: PrescanStartMessage; port: MessagePort }) => {
  const control = new Int32Array(message.start.control);
  try {
    run(message.start, message.port);
    Atomics.store(control, Control.Done, 1);
  } catch {
    Atomics.store(control, Control.Done, 2);
  }
  Atomics.notify(control, Control.Posted);
});
