import { constants as fsConstants, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SessionSource, ThreadId } from '@skein/protocol';
import { ensurePlainRollout, type RecordOptions } from './append-rollout.js';
import { RolloutError, requireThreadId } from './errors.js';
import { readGitInfo } from './git-info.js';
import { readSessionMetaLine } from './head-summary.js';
import { plainRolloutPath, rolloutPathFor } from './layout.js';
import { isPersistedRolloutItem } from './policy.js';
import {
  type DynamicTool,
  type GitInfo,
  type RolloutItem,
  type SessionMetaLine,
  serializeRolloutLine,
  serializeStampedItem,
} from './schema.js';
import { buildSessionMeta } from './session-meta.js';

export type { RecordOptions } from './append-rollout.js';

/*
 * The rollout writer (spec rollout-state §3): legacy line format, deferred materialization,
 * the persistence policy, ordered writes, durable flush.
 */

/**
 * A new rollout's facts for `RolloutRecorder.create`: home, thread id, cwd, originator, CLI
 * version, source, provider, lineage and git facts.
 */
export interface CreateRolloutRecorderParams {
  codexHome: string;
  threadId: string;
  cwd: string;
  /** Client that created the thread (`codex_cli_rs`, `skein`, ...). */
  originator: string;
  cliVersion: string;
  /** `SessionSource` (`"cli"`, `"vscode"`, `{"subagent":…}`, ...). */
  source: SessionSource;
  modelProvider: string | null;
  baseInstructions?: string | null;
  dynamicTools?: readonly DynamicTool[];
  forkedFromId?: string | null;
  parentThreadId?: string | null;
  threadSource?: 'user' | 'subagent' | 'memory_consolidation' | null;
  /** Written as `memory_mode: "disabled"` when memories are off. */
  memoriesDisabled?: boolean;
  /**
   * Git facts for `session_meta.git`: given, none (null), or read from `cwd` when the file is
   * materialized ('detect', the default).
   */
  git?: GitInfo | null | 'detect';
  /** Creation instant (file name in local time, meta timestamp in UTC). Default: now. */
  createdAt?: Date;
  /** See {@link RecorderMaterializeOptions}. */
  materializeOnFlush?: boolean;
}

/**
 * When a deferred recorder's file is created, paginated ordinals, and a hook told about every
 * written line.
 */
export interface RecorderMaterializeOptions {
  /**
   * Also materialize a deferred file when `flush`, `shutdown` or `writeBuffered` finds items
   * buffered (the thread store's rule), not only on a user message or `persist`. Default false.
   */
  materializeOnFlush?: boolean;
  /**
   * Codex 0.169's paginated mode: every line carries the next `ordinal`, starting at this one
   * (the `session_meta` line of a new file gets it; a fork's first line continues its
   * source's ordinals). Absent: legacy lines without ordinals.
   */
  firstOrdinal?: number;
  /** Told, after every successful write, which lines went out and where (see `WrittenLine`). */
  onWritten?: (lines: readonly WrittenLine[]) => void;
}

/** A line the recorder wrote: its item, ordinal (paginated files) and byte range in the file. */
export interface WrittenLine {
  item: { type: string; payload: unknown };
  ordinal: number | null;
  /** Offset of the line's first byte. */
  start: number;
  /** Offset just past its `\n`. */
  end: number;
}

/** A buffered line: its text and what it records. */
interface PendingLine {
  text: string;
  item: { type: string; payload: unknown };
  ordinal: number | null;
}

/** A deferred recorder whose `session_meta` the caller builds (at materialization time). */
export interface CreateRolloutRecorderWithMetaParams extends RecorderMaterializeOptions {
  path: string;
  threadId: string;
  /** Runs once, when the file is materialized; its result is the first line's payload. */
  buildSessionMeta: () => Promise<SessionMetaLine>;
  /** The meta line's timestamp. Default: the materialization instant. */
  metaTimestamp?: Date;
}

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
    const meta = buildSessionMeta({
      threadId,
      forkedFromId: params.forkedFromId
        ? requireThreadId(params.forkedFromId, 'forked-from id')
        : null,
      parentThreadId: params.parentThreadId
        ? requireThreadId(params.parentThreadId, 'parent thread id')
        : null,
      timestamp,
      cwd: params.cwd,
      originator: params.originator,
      cliVersion: params.cliVersion,
      source: params.source,
      threadSource: params.threadSource,
      modelProvider: params.modelProvider,
      baseInstructions: params.baseInstructions == null ? null : { text: params.baseInstructions },
      dynamicTools: params.dynamicTools,
      memoriesDisabled: params.memoriesDisabled,
    });
    const recorder = new RolloutRecorder(
      rolloutPathFor(params.codexHome, threadId, createdAt),
      threadId,
      'deferred',
      meta,
      timestamp,
      params.git === undefined ? 'detect' : params.git,
    );
    recorder.#materializeOnFlush = params.materializeOnFlush ?? false;
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
    options: Pick<RecorderMaterializeOptions, 'onWritten'> & {
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
      const size = (await recorder.#handle.stat()).size;
      recorder.#size = size;
      recorder.#onWritten = options.onWritten ?? null;
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
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Queues a drain (and fsync): ordered after every earlier write. */
  #schedule(sync: boolean): Promise<void> {
    return this.#enqueue(async () => {
      try {
        await this.#drain();
        if (sync && this.#handle !== null) await this.#handle.sync();
        this.#lastError = null;
      } catch (error) {
        this.#lastError = error;
        throw error instanceof RolloutError
          ? error
          : new RolloutError('Io', `cannot write ${this.path}: ${String(error)}`, { cause: error });
      }
    });
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
    const lead = this.#needsLeadingNewline ? '\n' : '';
    let text = lead;
    for (const line of lines) text += `${line.text}\n`;
    const length = Buffer.byteLength(text, 'utf8');
    try {
      await this.#writeAll(text, length);
    } catch {
      await this.#closeHandle();
      await this.#writeAll(text, length);
    }
    this.#needsLeadingNewline = false;
    let at = this.#size + lead.length;
    this.#size += length;
    if (this.#onWritten === null) return;
    const written = lines.map((line) => {
      const start = at;
      at += Buffer.byteLength(line.text, 'utf8') + 1;
      return { item: line.item, ordinal: line.ordinal, start, end: at };
    });
    try {
      this.#onWritten(written);
    } catch {
      // The listener keeps its own errors; the lines are written either way.
    }
  }

  /** Writes `text` (`length` bytes as UTF-8) at the end of the file. */
  async #writeAll(text: string, length: number): Promise<void> {
    if (this.#handle === null) {
      this.#handle = await open(
        this.path,
        fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT,
        0o644,
      );
    }
    // A synchronous write: a batch lands in the page cache in microseconds, while a trip
    // through the thread pool costs more than the write itself. The fsync (which waits on the
    // disk) stays asynchronous. The string is written as is (Node encodes it outside the JS
    // heap); only a short write, to finish, makes a Buffer of it.
    const fd = this.#handle.fd;
    let offset = writeSync(fd, text, null, 'utf8');
    if (offset >= length) return;
    const bytes = Buffer.from(text, 'utf8');
    while (offset < length) {
      const bytesWritten = writeSync(fd, bytes, offset, length - offset, null);
      if (bytesWritten <= 0) throw new RolloutError('Io', `no progress writing ${this.path}`);
      offset += bytesWritten;
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
