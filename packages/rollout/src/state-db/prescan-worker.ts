import { type MessagePort, parentPort } from 'node:worker_threads';
import { RolloutFileTable } from './file-table.js';
import {
  Control,
  PRESCAN_WINDOW,
  type PrescanBatchMessage,
  type PrescanStartMessage,
} from './prescan.js';
import { PRESCAN_BATCH_BYTES, PRESCAN_BATCH_FILES, PrescanBatchBuilder } from './prescan-batch.js';

/*
 * The backfill's reader thread: reads the rollouts in order, splits and classifies their
 * lines (no JSON parse, no zod: that stays on the main thread), and posts, per batch of files,
 * only the lines a metadata scan may parse. Flow control is a shared counter: at most
 * `PRESCAN_WINDOW` batches are posted and not yet released by the main thread.
 */

function run(start: PrescanStartMessage, port: MessagePort): void {
  const control = new Int32Array(start.control);
  let batch = new PrescanBatchBuilder();
  let first = 0;
  let posted = 0;
  const post = (next: number) => {
    const message: PrescanBatchMessage = {
      first,
      count: batch.files,
      meta: batch.meta,
      records: batch.records,
      data: batch.data,
    };
    // `data` owns its whole ArrayBuffer (allocUnsafeSlow: never a pool slice).
    const transfer = [batch.meta.buffer, batch.records.buffer, batch.data.buffer as ArrayBuffer];
    port.postMessage(message, transfer);
    posted += 1;
    Atomics.store(control, Control.Posted, posted);
    Atomics.notify(control, Control.Posted);
    batch = new PrescanBatchBuilder();
    first = next;
    // Wait for the main thread to release a batch (bounded by the timeout and the stop flag).
    for (;;) {
      if (Atomics.load(control, Control.Stop) !== 0) return false;
      const released = Atomics.load(control, Control.Released);
      if (posted - released < PRESCAN_WINDOW) return true;
      Atomics.wait(control, Control.Released, released, 1000);
    }
  };
  const files = new RolloutFileTable(start.files);
  const count = files.length - start.first;
  for (let index = 0; index < count; index += 1) {
    batch.scanFile(files.path(start.first + index));
    const last = index === count - 1;
    if (last || batch.files >= PRESCAN_BATCH_FILES || batch.length >= PRESCAN_BATCH_BYTES) {
      if (!post(index + 1)) break;
    }
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
