import { constants as fsConstants, fstatSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ThreadId } from '@skein/protocol';
import { ensurePlainRollout, type RecordOptions } from './append-rollout.js';
import { RolloutError, requireThreadId } from './errors.js';
import { defaultFsyncPolicy, type FsyncPolicy } from './fsync-policy.js';
import { readGitInfo } from './git-info.js';
import { readSessionMetaLine } from './head-summary.js';
import { plainRolloutPath, rolloutPathFor } from './layout.js';
import { encodeLines, type PendingLine } from './line-batch.js';
import { isPersistedRolloutItem } from './policy.js';
import type {
  CreateRolloutRecorderParams,
  CreateRolloutRecorderWithMetaParams,
  RecorderMaterializeOptions,
  WrittenLine,
} from './recorder-options.js';
import { sessionMetaOfCreateParams } from './recorder-options.js';
import {
  type GitInfo,
  type RolloutItem,
  type SessionMetaLine,
  serializeRolloutLine,
  serializeStampedItem,
} from './schema.js';

export type { RecordOptions } from './append-rollout.js';
export type {
  CreateRolloutRecorderParams,
  CreateRolloutRecorderWithMetaParams,
  RecorderMaterializeOptions,
  WrittenLine,
} from './recorder-options.js';

/*
 * The rollout writer (spec rollout-state §3): legacy line format, deferred materialization,
 * the persistence policy, ordered writes, durable flush.
 */

type RecorderState = 'deferred' | 'open' | 'closed';

/** Whether an item is the start of a real user turn (what materializes a deferred file). */
function isUserMessage(item: RolloutItem): boolean {
  if (item.type !== 'event_msg') return false;
  if (item.payload.type === 'user_message') return true;
  // 0.169's paginated form of the same event.
  const completed = item.payload as { type: string; item?: { type?: unknown } };
  return completed.type === 'item_completed' && completed.item?.type === 'UserMessage';
}

/**
 * Writes one thread's rollout. A created recorder has its path and `session_meta` ready but
 * writes nothing until the first user message is recorded (or `persist()` is called); then the
 * meta line and everything buffered go out together. Items are filtered by the persistence
 * policy; each batch is one `write()` on an `O_APPEND` fd; `flush()` makes everything recorded
 * so far durable (written and fsynced). `record` never throws for I/O: write errors are kept
 * (items stay buffered) and reported by the next `persist`/`flush`/`shutdown`, after one
 * reopen-and-retry.
 */
export class RolloutRecorder {
  readonly path: string;
  readonly threadId: ThreadId;
  #state: RecorderState;
  #pending: PendingLine[] = [];
  /** The next ordinal (paginated files), or null (legacy lines). */
  #nextOrdinal: number | null = null;
  /** The ordinal reserved for the `session_meta` line of a deferred paginated file. */
  #metaOrdinal: number | null = null;
  /** Bytes in the file (where the next write lands). */
  #size = 0;
  #onWritten: ((lines: readonly WrittenLine[]) => void) | null = null;
  #handle: FileHandle | null = null;
  #queue: Promise<void> = Promise.resolve();
  /** Tasks queued or running: none means a write may go out at once, in order. */
  #busy = 0;
  #persistRequested: boolean;
  #lastError: unknown = null;
  #meta: SessionMetaLine | null;
  #metaTimestamp: string;
  #git: GitInfo | null | 'detect';
  /** The existing file does not end with `\n` (torn tail): start our first write on a new line. */
  #needsLeadingNewline = false;
  #materialized = false;
  #materializeOnFlush = false;
  #buildSessionMeta: (() => Promise<SessionMetaLine>) | null = null;
  /** Whether a flush's fsync runs on the calling thread or the threadpool. */
  #fsyncPolicy: FsyncPolicy = defaultFsyncPolicy;
  /** The file's device (`st_dev`): the fsync policy judges each disk on its own. */
  #device = 0;

  private constructor(
    path: string,
    threadId: ThreadId,
    state: RecorderState,
    meta: SessionMetaLine | null,
    metaTimestamp: string,
    git: GitInfo | null | 'detect',
  ) {
    this.path = path;
    this.threadId = threadId;
    this.#state = state;
    this.#persistRequested = state === 'open';
    this.#materialized = state === 'open';
    this.#meta = meta;
    this.#metaTimestamp = metaTimestamp;
    this.#git = git;
  }

  /** A recorder for a new thread: path and `session_meta` precomputed, nothing on disk yet. */
  static create(params: CreateRolloutRecorderParams): RolloutRecorder {
    const threadId = requireThreadId(params.threadId);
    const createdAt = params.createdAt ?? new Date();
    const timestamp = createdAt.toISOString();
    const meta = sessionMetaOfCreateParams(params, threadId, timestamp);
    const recorder = new RolloutRecorder(
      rolloutPathFor(params.codexHome, threadId, createdAt),
      threadId,
      'deferred',
      meta,
      timestamp,
      params.git === undefined ? 'detect' : params.git,
    );
    recorder.#materializeOnFlush = params.materializeOnFlush ?? false;
    if (params.fsyncPolicy !== undefined) recorder.#fsyncPolicy = params.fsyncPolicy;
    return recorder;
  }

  /**
   * A deferred recorder at a given path whose `session_meta` comes from the caller (built when
   * the file is materialized, so facts such as git are read then). No git detection is added.
   */
  static createWithSessionMeta(params: CreateRolloutRecorderWithMetaParams): RolloutRecorder {
    const recorder = new RolloutRecorder(
      plainRolloutPath(params.path),
      requireThreadId(params.threadId),
      'deferred',
      null,
      params.metaTimestamp?.toISOString() ?? '',
      null,
    );
    recorder.#buildSessionMeta = params.buildSessionMeta;
    recorder.#materializeOnFlush = params.materializeOnFlush ?? false;
    recorder.#onWritten = params.onWritten ?? null;
    if (params.fsyncPolicy !== undefined) recorder.#fsyncPolicy = params.fsyncPolicy;
    if (params.firstOrdinal !== undefined) {
      recorder.#metaOrdinal = params.firstOrdinal;
      recorder.#nextOrdinal = params.firstOrdinal + 1;
    }
    return recorder;
  }

  /**
   * A recorder appending to an existing rollout. A `.zst`-only rollout is first decompressed
   * back to plain (temp file, fsync, no-clobber link, then the `.zst` is removed).
   */
  static async resume(
    path: string,
    options: Pick<RecorderMaterializeOptions, 'onWritten' | 'fsyncPolicy'> & {
      /** Paginated files: the ordinal of the next line (the last one's + 1). */
      nextOrdinal?: number;
    } = {},
  ): Promise<RolloutRecorder> {
    const plain = plainRolloutPath(path);
    await ensurePlainRollout(plain);
    const meta = await readSessionMetaLine(plain);
    const recorder = new RolloutRecorder(
      plain,
      requireThreadId(meta.id, `session_meta id in ${plain}`),
      'open',
      null,
      '',
      null,
    );
    try {
      recorder.#handle = await open(plain, 'a');
      const { size, dev } = await recorder.#handle.stat();
      recorder.#size = size;
      recorder.#device = dev;
      recorder.#onWritten = options.onWritten ?? null;
      if (options.fsyncPolicy !== undefined) recorder.#fsyncPolicy = options.fsyncPolicy;
      if (options.nextOrdinal !== undefined) recorder.#nextOrdinal = options.nextOrdinal;
      if (size > 0) {
        const last = Buffer.alloc(1);
        const reader = await open(plain, 'r');
        try {
          await reader.read(last, 0, 1, size - 1);
        } finally {
          await reader.close();
        }
        recorder.#needsLeadingNewline = last[0] !== 0x0a;
      }
    } catch (error) {
      throw new RolloutError('Io', `cannot open ${plain} for append`, { cause: error });
    }
    return recorder;
  }

  /** Whether the file exists on disk (the first user message or `persist` happened). */
  get materialized(): boolean {
    return this.#materialized;
  }

  /**
   * The `session_meta` this recorder writes first (null for a resumed recorder, and for a
   * caller-built meta until the file is materialized).
   */
  get sessionMeta(): SessionMetaLine | null {
    return this.#meta;
  }

  /**
   * Records canonical items: those the persistence policy keeps are buffered (stamped now) and
   * written in order. A user message materializes a deferred file. Never throws for I/O.
   */
  record(items: readonly RolloutItem[], options: RecordOptions = {}): void {
    if (this.#state === 'closed') throw new RolloutError('RecorderClosed', 'recorder is closed');
    const quotedTimestamp = JSON.stringify((options.timestamp ?? new Date()).toISOString());
    let kept = 0;
    for (const item of items) {
      const ordinal = this.#nextOrdinal;
      if (!isPersistedRolloutItem(item, ordinal === null ? 'legacy' : 'paginated')) continue;
      if (ordinal !== null) this.#nextOrdinal = ordinal + 1;
      // Serialized once, here; the write joins these texts into one buffer.
      this.#pending.push({
        text: serializeStampedItem(item, quotedTimestamp, ordinal),
        item,
        ordinal,
      });
      kept += 1;
      if (isUserMessage(item)) this.#persistRequested = true;
    }
    if (kept > 0 && this.#persistRequested) this.#schedule(false).catch(() => undefined);
  }

  /** Materializes the file now (idempotent) and writes everything buffered. */
  async persist(): Promise<void> {
    this.#assertOpen();
    this.#persistRequested = true;
    await this.#schedule(false);
  }

  /**
   * Writes everything recorded so far, without fsync, and resolves once it is written (or
   * rejects with the write error). A deferred recorder stays without a file unless it was asked
   * to persist, or `materializeOnFlush` is set and items are buffered.
   */
  async writeBuffered(): Promise<void> {
    this.#assertOpen();
    if (!this.#shouldWrite()) return;
    await this.#schedule(false);
  }

  /**
   * Makes every recorded item durable: written and fsynced. A deferred recorder that has not
   * been asked to persist (no user message yet) stays without a file, unless
   * `materializeOnFlush` is set and items are buffered.
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    if (!this.#shouldWrite()) return;
    await this.#schedule(true);
  }

  /** Flushes, then closes the file. On failure the recorder stays usable so callers can retry. */
  async shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#shouldWrite()) await this.#schedule(true);
    await this.#enqueue(async () => {
      await this.#closeHandle();
      this.#state = 'closed';
    });
  }

  /** Stops without writing what is still buffered. */
  async discard(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#pending = [];
    this.#state = 'closed';
    await this.#enqueue(() => this.#closeHandle());
  }

  /** Whether a write may touch the disk: a persisted/open file, or buffered items to materialize. */
  #shouldWrite(): boolean {
    if (this.#persistRequested) return true;
    return this.#materializeOnFlush && this.#pending.length > 0;
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw new RolloutError('RecorderClosed', 'recorder is closed');
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#busy += 1;
    const run = this.#queue.then(task);
    this.#queue = run.then(this.#settled, this.#settled);
    return run;
  }

  readonly #settled = (): void => {
    this.#busy -= 1;
  };

  /**
   * Writes what is buffered (and fsyncs), after every earlier write. Nothing queued and the file
   * open: the first write attempt happens now (the page cache takes a batch in microseconds, less
   * than a queued task costs), and so does the fsync while the fsync policy keeps it on this
   * thread; a threadpool fsync, or the reopen-and-retry of a failure, is queued.
   */
  #schedule(sync: boolean): Promise<void> {
    let failed = false;
    if (this.#busy === 0 && this.#state === 'open' && this.#handle !== null) {
      failed = !this.#writePendingNow();
      if (!failed && !sync) {
        this.#lastError = null;
        return Promise.resolve();
      }
      const fd = this.#handle.fd;
      // The fsync alone, on this thread (it runs before `#reported` first awaits).
      if (!failed && this.#fsyncPolicy.inlineNow(this.#device)) {
        return this.#reported(async () => this.#fsyncPolicy.fsyncInline(fd, this.#device));
      }
      if (!failed) return this.#enqueue(this.#syncNow);
    }
    return this.#enqueue(() =>
      this.#reported(async () => {
        await (failed ? this.#retryPending() : this.#drain());
        if (sync) await this.#syncHandle();
      }),
    );
  }

  /** The first write attempt of what is buffered, now; false (items kept) if it failed. */
  #writePendingNow(): boolean {
    if (this.#pending.length === 0) return true;
    // Taken out, and busy meanwhile: a `record` from the `onWritten` listener queues.
    const lines = this.#pending;
    this.#pending = [];
    this.#busy += 1;
    try {
      this.#writeLines(lines);
      return true;
    } catch {
      this.#pending = lines.concat(this.#pending);
      return false;
    } finally {
      this.#busy -= 1;
    }
  }

  /** The flush of a batch already written: the fsync alone, its error kept and reported. */
  readonly #syncNow = (): Promise<void> => this.#reported(() => this.#syncHandle());

  /** fsync where the policy says (a queued close waits behind it either way). */
  #syncHandle(): Promise<void> {
    if (this.#handle === null) return Promise.resolve();
    return this.#fsyncPolicy.fsync(this.#handle.fd, this.#device);
  }

  /** Runs a write step, keeping its error for `lastError` and reporting it as a RolloutError. */
  async #reported(step: () => Promise<void>): Promise<void> {
    try {
      await step();
      this.#lastError = null;
    } catch (error) {
      this.#lastError = error;
      throw error instanceof RolloutError
        ? error
        : new RolloutError('Io', `cannot write ${this.path}: ${String(error)}`, { cause: error });
    }
  }

  async #drain(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'deferred') {
      if (!this.#shouldWrite()) return;
      await this.#materialize();
      return;
    }
    if (this.#pending.length === 0) return;
    const count = this.#pending.length;
    await this.#writeWithRetry(this.#pending.slice(0, count));
    this.#pending.splice(0, count);
  }

  async #materialize(): Promise<void> {
    const built = this.#buildSessionMeta === null ? null : await this.#buildSessionMeta();
    const meta = { ...((built ?? this.#meta) as Record<string, unknown>) };
    if (built !== null) {
      if (this.#metaTimestamp === '') this.#metaTimestamp = new Date().toISOString();
    } else if (this.#git === 'detect') {
      const git = await readGitInfo(String(meta.cwd)).catch(() => null);
      if (git !== null && Object.keys(git).length > 0) meta.git = git;
    } else if (this.#git !== null) {
      meta.git = this.#git;
    }
    const metaItem = { type: 'session_meta' as const, payload: meta as SessionMetaLine };
    const ordinal = this.#metaOrdinal;
    const metaLine: PendingLine = {
      text: serializeRolloutLine(
        ordinal === null
          ? { timestamp: this.#metaTimestamp, ...metaItem }
          : { timestamp: this.#metaTimestamp, ordinal, ...metaItem },
      ),
      item: metaItem,
      ordinal,
    };
    await mkdir(dirname(this.path), { recursive: true });
    const count = this.#pending.length;
    await this.#writeWithRetry([metaLine, ...this.#pending.slice(0, count)]);
    this.#pending.splice(0, count);
    this.#meta = meta as SessionMetaLine;
    this.#state = 'open';
    this.#materialized = true;
    this.#persistRequested = true;
  }

  /** One `write()` of all lines on the append fd; on error reopen and retry once. */
  async #writeWithRetry(lines: PendingLine[]): Promise<void> {
    try {
      await this.#openHandle();
      this.#writeLines(lines);
    } catch {
      await this.#closeHandle();
      await this.#openHandle();
      this.#writeLines(lines);
    }
  }

  /** The retry after a failed first attempt of `#schedule`: reopen, write what is buffered. */
  async #retryPending(): Promise<void> {
    await this.#closeHandle();
    if (this.#state !== 'open' || this.#pending.length === 0) return;
    await this.#openHandle();
    const count = this.#pending.length;
    this.#writeLines(this.#pending.slice(0, count));
    this.#pending.splice(0, count);
  }

  async #openHandle(): Promise<void> {
    if (this.#handle !== null) return;
    this.#handle = await open(
      this.path,
      fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT,
      0o644,
    );
    this.#device = fstatSync(this.#handle.fd).dev;
  }

  /**
   * One synchronous write of the lines, encoded into one buffer (the flush's fsync, which waits
   * on the disk, runs where `FsyncPolicy` says). Throws the write's error; else counts the size,
   * tells `onWritten`.
   */
  #writeLines(lines: readonly PendingLine[]): void {
    const handle = this.#handle;
    if (handle === null) throw new RolloutError('Io', `${this.path} is not open`);
    const lead = this.#needsLeadingNewline;
    const ends = this.#onWritten === null ? null : new Array<number>(lines.length);
    const { bytes, length } = encodeLines(lines, lead, ends);
    let offset = 0;
    while (offset < length) {
      const bytesWritten = writeSync(handle.fd, bytes, offset, length - offset, null);
      if (bytesWritten <= 0) throw new RolloutError('Io', `no progress writing ${this.path}`);
      offset += bytesWritten;
    }
    this.#needsLeadingNewline = false;
    const base = this.#size;
    this.#size += length;
    if (ends === null || this.#onWritten === null) return;
    let start = base + (lead ? 1 : 0);
    const written = lines.map((line, index) => {
      const end = base + (ends[index] as number);
      const entry = { item: line.item, ordinal: line.ordinal, start, end };
      start = end;
      return entry;
    });
    try {
      this.#onWritten(written);
    } catch {
      // The listener keeps its own errors; the lines are written either way.
    }
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    if (handle !== null) await handle.close().catch(() => undefined);
  }

  /** The error of the last failed write, if the most recent attempt failed. */
  get lastError(): unknown {
    return this.#lastError;
  }
}
