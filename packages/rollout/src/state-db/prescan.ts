import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import type { PrescannedRollout } from '../extract-file.js';
import type { RolloutFileTable, RolloutFileTableData } from './file-table.js';
import { prescannedFile } from './prescan-batch.js';

/*
 * Main-thread side of the backfill's reader thread (`prescan-worker.ts`). The reader does the
 * byte work of extraction — open, read, split, classify — one batch of files ahead; this
 * thread only parses the few lines that carry metadata, and writes SQLite. The reader is an
 * accelerator, never a dependency: a file it could not handle, or every file after it failed
 * or stopped, is extracted here exactly as without it.
 */

/** Slots of the shared control array. */
export enum Control {
  /** Batches the main thread is done with (flow control). */
  Released = 0,
  /** Batches the reader has posted. */
  Posted = 1,
  /** Set by the main thread: stop reading. */
  Stop = 2,
  /** Set by the reader when it ends: 1 finished, 2 failed. */
  Done = 3,
}

/** Batches posted and not yet released: bounds the reader's lead (and the memory in flight). */
export const PRESCAN_WINDOW = 8;
/**
 * Below this many files a reader thread costs more to start than it saves (measured on 2 cores
 * in fresh processes: 1,000 files 250 vs 235 ms without it, 2,500 even, 5,000 575 vs 690 ms).
 */
export const PRESCAN_MIN_FILES = 2500;
/** Longest wait for one batch before giving up on the reader (it is then bypassed). */
const STALL_MS = 30_000;

export interface PrescanStartMessage {
  /** The files, and the first of them to read (the ones after it follow in order). */
  files: RolloutFileTableData;
  first: number;
  control: SharedArrayBuffer;
}

export interface PrescanBatchMessage {
  first: number;
  count: number;
  meta: Float64Array;
  records: Int32Array;
  data: Uint8Array;
}

interface Batch {
  first: number;
  end: number;
  meta: Float64Array;
  records: Int32Array;
  data: Buffer;
}

/** `Atomics.waitAsync` (Node 16+; typed only from lib es2024). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

const WORKER_URL = new URL('./prescan-worker.js', import.meta.url);

export class RolloutPrescanner {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #workerPort: MessagePort;
  readonly #shared = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
  readonly #control = new Int32Array(this.#shared);
  #current: Batch | null = null;
  #received = 0;
  #failed = false;
  #started = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#workerPort = channel.port2;
    worker.on('error', () => {
      this.#failed = true;
    });
    worker.on('exit', () => {
      this.#failed = true;
    });
  }

  /** Starts the reader thread (idle until `scan`); null where it cannot run (no built file). */
  static start(): RolloutPrescanner | null {
    if (!existsSync(fileURLToPath(WORKER_URL))) return null;
    try {
      // Small heap: the reader holds the paths and a window of batches (in array buffers); a
      // reader out of memory only ends the reader (the main thread then reads the rest).
      const worker = new Worker(WORKER_URL, {
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 },
      });
      return new RolloutPrescanner(worker);
    } catch {
      return null;
    }
  }

  /**
   * Hands the reader the files from `first` on, in the order `get` will ask for them (`get(0)`
   * is file `first`). The table is copied as a few buffers, not a string per file.
   */
  scan(files: RolloutFileTable, first: number): void {
    this.#started = true;
    const start: PrescanStartMessage = { files: files.data, first, control: this.#shared };
    this.#worker.postMessage({ start, port: this.#workerPort }, [this.#workerPort]);
  }

  /**
   * The prescan of file `index` (asked in increasing order), or null: extract that file on
   * this thread.
   */
  async get(index: number): Promise<PrescannedRollout | null> {
    const deadline = Date.now() + STALL_MS;
    // Bounded: each pass takes a batch, returns, or waits (at most until the deadline).
    for (;;) {
      const batch = this.#current;
      if (batch !== null && index < batch.end) {
        return index < batch.first ? null : view(batch, index);
      }
      if (batch !== null) {
        this.#current = null;
        Atomics.add(this.#control, Control.Released, 1);
        Atomics.notify(this.#control, Control.Released);
      }
      const next = this.#receive();
      if (next !== null) {
        this.#current = next;
        continue;
      }
      if (!this.#started || this.#failed) return null;
      if (Atomics.load(this.#control, Control.Done) !== 0) {
        // The reader posts before it flags its end: one more look finds any last batch.
        this.#current = this.#receive();
        if (this.#current !== null) continue;
        return null;
      }
      if (Date.now() >= deadline) {
        this.#failed = true;
        return null;
      }
      await this.#waitForPost(deadline);
    }
  }

  #receive(): Batch | null {
    const received = receiveMessageOnPort(this.#port);
    if (received === undefined) return null;
    this.#received += 1;
    const message = received.message as PrescanBatchMessage;
    return {
      first: message.first,
      end: message.first + message.count,
      meta: message.meta,
      records: message.records,
      data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
    };
  }

  /** Waits (at most until `deadline`) for a post beyond what was received, or the end. */
  async #waitForPost(deadline: number): Promise<void> {
    const posted = Atomics.load(this.#control, Control.Posted);
    if (posted > this.#received) {
      // Flagged but not in the port yet (should not happen): let the event loop turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    // At most 100 ms at a time, so exit and error events of the reader are seen.
    const wait = waitAsync(
      this.#control,
      Control.Posted,
      posted,
      Math.max(1, Math.min(100, deadline - Date.now())),
    );
    if (wait.async) await wait.value;
  }

  /** Stops and ends the reader thread. */
  async close(): Promise<void> {
    Atomics.store(this.#control, Control.Stop, 1);
    Atomics.notify(this.#control, Control.Released);
    this.#current = null;
    this.#port.close();
    await this.#worker.terminate();
  }
}

function view(batch: Batch, index: number): PrescannedRollout | null {
  return prescannedFile(batch.meta, batch.records, batch.data, index - batch.first);
}
