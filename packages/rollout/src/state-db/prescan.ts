import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import type { ExtractOutcome } from './extract.js';
import type { RolloutFileTable, RolloutFileTableData } from './file-table.js';
import { decodeOutcome, type FlatValue } from './row-transfer.js';

/*
 * Main-thread side of the backfill's reader thread (`prescan-worker.ts`). The reader does the
 * extraction — open, read, split, classify, parse the metadata lines, build the row — ahead of
 * this thread, which then only writes SQLite. Files go in blocks of `PRESCAN_BLOCK_FILES`,
 * claimed from a shared counter: the reader takes the next block when it is free to, and this
 * thread takes the block it needs next itself when the reader has not started it (the reader
 * is still starting, or slower than the writes), so neither thread waits while the other has
 * a backlog, and no file is read twice. The reader is an accelerator, never a dependency: a
 * file it could not handle, or every file after it failed or stopped, is extracted here
 * exactly as without it (by the same code: the rows are the same).
 */

/** Slots of the shared control array. */
export enum Control {
  /** Blocks the main thread is done with (flow control). */
  Released = 0,
  /** Blocks the reader has posted. */
  Posted = 1,
  /** Set by the main thread: stop reading. */
  Stop = 2,
  /** Set by the reader when it ends: 1 finished, 2 failed. */
  Done = 3,
  /** The next block nobody has claimed. */
  Claimed = 4,
}
const CONTROL_SLOTS = 5;

/** Files per block: the unit the reader posts and either thread claims. */
export const PRESCAN_BLOCK_FILES = 64;
/**
 * Blocks posted and not yet released: bounds the reader's lead (and the memory in flight).
 * Two import transactions' worth, so the reader keeps working while one commits.
 */
export const PRESCAN_WINDOW = 16;
/**
 * Below this many files a reader thread costs more to start than it saves (measured on 2 cores
 * in fresh processes: 1,000 files 250 vs 235 ms without it, 2,500 even, 5,000 575 vs 690 ms).
 */
export const PRESCAN_MIN_FILES = 2500;
/** Longest wait for one block before giving up on the reader (it is then bypassed). */
const STALL_MS = 30_000;

export interface PrescanStartMessage {
  /** The files, and the first of them to read (the ones after it follow in order). */
  files: RolloutFileTableData;
  first: number;
  /** The provider of threads whose rollout names none. */
  defaultProvider: string;
  control: SharedArrayBuffer;
}

/** Block `block`: its `count` files as flat outcomes (`row-transfer.ts`). */
export interface PrescanBlockMessage {
  block: number;
  count: number;
  outcomes: FlatValue[];
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
  readonly #shared = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  readonly #control = new Int32Array(this.#shared);
  /** Blocks received and not yet reached: per file its outcome, or null (extract it here). */
  readonly #ready = new Map<number, (ExtractOutcome | null)[]>();
  /**
   * Blocks this thread took ahead while the reader worked on the one it needed: per file its
   * outcome, or null where it stopped (the block it needed had come; the rest is extracted
   * when its turn comes, as any block this thread takes).
   */
  readonly #extractedAhead = new Map<number, (ExtractOutcome | null)[]>();
  /** The block `get` is in, and its outcomes (null: this thread extracts it). */
  #block = -1;
  #outcomes: (ExtractOutcome | null)[] | null = null;
  /** Whether `#outcomes` came from the reader (a block to release when left). */
  #outcomesFromReader = false;
  /** How many blocks the scan covers. */
  #blocks = 0;
  /** Extracts file `index` (as `get` counts) on this thread, for blocks taken ahead. */
  #extractHere: ((index: number) => ExtractOutcome) | null = null;
  #readerExtracted = 0;
  /** Files the scan covers. */
  #count = 0;
  #received = 0;
  /** Whether this thread takes the blocks the reader has not started. */
  #share = true;
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
      // Small heap: the reader holds the paths, one file's metadata lines and a window of
      // rows; a reader out of memory only ends the reader (the main thread extracts the rest).
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
   * is file `first`). The table is copied as a few buffers, not a string per file. Without
   * `share`, this thread waits for every block rather than take one the reader has not started.
   */
  scan(
    files: RolloutFileTable,
    first: number,
    defaultProvider: string,
    share = true,
    extractHere: ((index: number) => ExtractOutcome) | null = null,
  ): void {
    this.#started = true;
    this.#share = share;
    this.#extractHere = extractHere;
    this.#count = files.length - first;
    this.#blocks = Math.ceil(this.#count / PRESCAN_BLOCK_FILES);
    const start: PrescanStartMessage = {
      files: files.data,
      first,
      defaultProvider,
      control: this.#shared,
    };
    this.#worker.postMessage({ start, port: this.#workerPort }, [this.#workerPort]);
  }

  /**
   * The outcome of file `index` (asked in increasing order), or null: extract that file on
   * this thread.
   */
  async get(index: number): Promise<ExtractOutcome | null> {
    const block = Math.floor(index / PRESCAN_BLOCK_FILES);
    if (block !== this.#block) await this.#enter(block);
    const outcome =
      this.#outcomes === null ? null : (this.#outcomes[index % PRESCAN_BLOCK_FILES] ?? null);
    if (outcome !== null && this.#outcomesFromReader) this.#readerExtracted += 1;
    return outcome;
  }

  /** Files whose rows the reader thread built (the rest were extracted on this thread). */
  get readerExtracted(): number {
    return this.#readerExtracted;
  }

  /** Moves to `block`: its outcomes from the reader, or null when this thread extracts it. */
  async #enter(block: number): Promise<void> {
    if (this.#outcomesFromReader) {
      // The reader's block just left: it may post another.
      Atomics.add(this.#control, Control.Released, 1);
      Atomics.notify(this.#control, Control.Released);
    }
    this.#block = block;
    this.#outcomes = null;
    this.#outcomesFromReader = false;
    const ahead = this.#extractedAhead.get(block);
    if (ahead !== undefined) {
      this.#extractedAhead.delete(block);
      this.#outcomes = ahead;
      return;
    }
    const deadline = Date.now() + STALL_MS;
    // Bounded: each pass finds the block, claims it, extracts one block ahead (each one only
    // once, and at most a window of them), gives up, or waits (until the deadline).
    for (;;) {
      this.#receiveAll();
      const ready = this.#ready.get(block);
      if (ready !== undefined) {
        this.#ready.delete(block);
        this.#outcomes = ready;
        this.#outcomesFromReader = true;
        return;
      }
      if (!this.#started || this.#failed) return;
      // Not started by the reader: this thread takes it.
      if (
        this.#share &&
        Atomics.compareExchange(this.#control, Control.Claimed, block, block + 1) === block
      ) {
        return;
      }
      if (Atomics.load(this.#control, Control.Done) !== 0) {
        // The reader posts before it flags its end: one more look finds any last block.
        this.#receiveAll();
        if (this.#ready.has(block)) continue;
        this.#giveUp();
        return;
      }
      if (Date.now() >= deadline) {
        this.#giveUp();
        return;
      }
      if (this.#extractAhead(block)) continue;
      await this.#waitForPost(deadline);
    }
  }

  /**
   * While the reader works on the block this thread needs next, this thread takes the next
   * block nobody has claimed and extracts its files (rows are committed in file order, so it
   * keeps them until their turn) instead of waiting idle: a file at a time, stopping as soon
   * as the block it needs has come. False when there is none to take, or enough are kept.
   */
  #extractAhead(needed: number): boolean {
    const extractHere = this.#extractHere;
    if (!this.#share || extractHere === null) return false;
    if (this.#extractedAhead.size >= PRESCAN_WINDOW) return false;
    const next = Atomics.load(this.#control, Control.Claimed);
    if (next <= needed || next >= this.#blocks) return false;
    if (Atomics.compareExchange(this.#control, Control.Claimed, next, next + 1) !== next) {
      return true; // the reader took it meanwhile: look again
    }
    const from = next * PRESCAN_BLOCK_FILES;
    const outcomes: (ExtractOutcome | null)[] = new Array(
      Math.min(this.#count, from + PRESCAN_BLOCK_FILES) - from,
    ).fill(null);
    this.#extractedAhead.set(next, outcomes);
    for (let file = 0; file < outcomes.length; file += 1) {
      outcomes[file] = extractHere(from + file);
      this.#receiveAll();
      if (this.#ready.has(needed)) break;
    }
    return true;
  }

  /** Bypasses the reader from here on (and tells it to stop). */
  #giveUp(): void {
    this.#failed = true;
    Atomics.store(this.#control, Control.Stop, 1);
    Atomics.notify(this.#control, Control.Released);
  }

  #receiveAll(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return;
      this.#received += 1;
      const message = received.message as PrescanBlockMessage;
      const outcomes: (ExtractOutcome | null)[] = new Array(message.count);
      for (let file = 0, at = 0; file < message.count; file += 1) {
        const decoded = decodeOutcome(message.outcomes, at);
        outcomes[file] = decoded.outcome;
        at = decoded.next;
      }
      this.#ready.set(message.block, outcomes);
    }
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
    this.#ready.clear();
    this.#extractedAhead.clear();
    this.#outcomes = null;
    this.#port.close();
    await this.#worker.terminate();
  }
}
