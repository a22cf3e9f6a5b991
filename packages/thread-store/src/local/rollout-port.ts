/**
 * The rollout-side operations LocalThreadStore needs, behind one small module: the live writer,
 * the session name index, find-by-id, and reconcile. They are built on @skein/rollout's layout,
 * reader, serializer and metadata extraction and on @skein/state's queries, so the store's own
 * code never touches line formats or SQL.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  appendRolloutItems,
  appendSessionIndexEntry,
  eventUserMessage,
  extractThreadMetadataFromFile,
  type FileMetadataResult,
  findThreadNameById,
  findThreadNamesByIds,
  findThreadPathWithDb,
  forEachRolloutLine,
  formatRolloutTimestamp,
  plainRolloutPath,
  type RolloutItem,
  readThreadHistory,
  reconcileRolloutFile,
  removeSessionIndexEntries,
  resolveRolloutFile,
  type SessionMetaLine,
  serializeRolloutLine,
  streamRollout,
} from '@skein/rollout';
import type { StateDb, ThreadId, ThreadMetadata } from '@skein/state';

// ---------------------------------------------------------------------------------------------
// Live writer

export class RolloutWriterClosedError extends Error {
  constructor(path: string) {
    super(`rollout writer for ${path} is closed`);
  }
}

/**
 * One thread's append-only writer. A created thread is deferred: nothing is on disk until
 * `persist`, or a `flush` with items pending. Items are written one compact JSON line each, in
 * one `write` per batch to an `O_APPEND` descriptor; `flush`/`persist`/`shutdown` also fsync.
 * Operations run strictly in order. A failed write keeps its items pending for the next try.
 */
export class RolloutWriter {
  readonly path: string;
  private handle: FileHandle | null = null;
  private materialized: boolean;
  private pending: RolloutItem[] = [];
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly buildSessionMeta: (() => Promise<SessionMetaLine>) | null;

  private constructor(
    path: string,
    materialized: boolean,
    buildSessionMeta: (() => Promise<SessionMetaLine>) | null,
  ) {
    this.path = path;
    this.materialized = materialized;
    this.buildSessionMeta = buildSessionMeta;
  }

  /** A deferred writer for a new thread; `buildSessionMeta` runs at materialization. */
  static forCreate(path: string, buildSessionMeta: () => Promise<SessionMetaLine>): RolloutWriter {
    return new RolloutWriter(path, false, buildSessionMeta);
  }

  /** A writer appending to an existing rollout (a `.zst`-only rollout is decompressed first). */
  static async forResume(path: string): Promise<RolloutWriter> {
    const existing = await resolveRolloutFile(path);
    const plain = plainRolloutPath(path);
    if (existing === null) throw new Error(`rollout file does not exist: ${plain}`);
    if (existing !== plain) await decompressInPlace(existing, plain);
    const writer = new RolloutWriter(plain, true, null);
    writer.handle = await open(plain, 'a');
    return writer;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isMaterialized(): boolean {
    return this.materialized;
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    if (this.closed) throw new RolloutWriterClosedError(this.path);
  }

  /** Queues canonical items; writes them at once when the file exists (no fsync). */
  record(items: readonly RolloutItem[]): Promise<void> {
    return this.run(async () => {
      this.assertOpen();
      if (items.length === 0) return;
      this.pending.push(...items);
      if (this.materialized) await this.writePending();
    });
  }

  /** Materializes (even without items), writes everything pending, fsyncs. */
  persist(): Promise<void> {
    return this.run(async () => {
      this.assertOpen();
      await this.materialize();
      await this.writePending();
      await this.handle?.datasync();
    });
  }

  /** Writes pending items (materializing if needed) without fsync. */
  writeThrough(): Promise<void> {
    return this.run(async () => {
      this.assertOpen();
      if (this.pending.length === 0) return;
      await this.materialize();
      await this.writePending();
    });
  }

  /** Writes and fsyncs pending items; a deferred thread without items stays deferred. */
  flush(): Promise<void> {
    return this.run(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    this.assertOpen();
    if (!this.materialized && this.pending.length === 0) return;
    await this.materialize();
    await this.writePending();
    await this.handle?.datasync();
  }

  /** Flushes, then closes; later calls fail. A failed flush leaves the writer open. */
  shutdown(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      await this.flushNow();
      this.closed = true;
      await this.closeHandle();
    });
  }

  /** Closes without writing buffered items; durable content stays. Idempotent. */
  discard(): Promise<void> {
    this.closed = true;
    return this.run(async () => {
      this.pending = [];
      await this.closeHandle();
    });
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }

  private async materialize(): Promise<void> {
    if (this.materialized) return;
    const meta = this.buildSessionMeta === null ? null : await this.buildSessionMeta();
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, 'a');
    try {
      if (meta !== null) {
        const line = serializeRolloutLine({
          timestamp: formatRolloutTimestamp(new Date()),
          type: 'session_meta',
          payload: meta,
        });
        await handle.write(`${line}\n`);
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.handle = handle;
    this.materialized = true;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    if (this.handle === null) this.handle = await open(this.path, 'a');
    const timestamp = formatRolloutTimestamp(new Date());
    let text = '';
    for (const item of this.pending) {
      text += `${serializeRolloutLine({ timestamp, ...item })}\n`;
    }
    await this.handle.write(text);
    this.pending = [];
  }
}

/** Turns a `.jsonl.zst` rollout back into its plain file (temp file, fsync, rename). */
async function decompressInPlace(compressed: string, plain: string): Promise<void> {
  const chunks: Buffer[] = [];
  await forEachRolloutLine(compressed, (line, info) => {
    chunks.push(Buffer.from(line), Buffer.from(info.terminated ? '\n' : ''));
  });
  const temp = `${plain}.decompress-${randomBytes(4).toString('hex')}`;
  const handle = await open(temp, 'wx');
  try {
    await handle.write(Buffer.concat(chunks));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, plain);
  await unlink(compressed);
}

/** Appends one item as a line to an existing rollout (for threads without a live writer). */
export async function appendRolloutItemToPath(path: string, item: RolloutItem): Promise<void> {
  await appendRolloutItems(path, [item]);
}

/** The file's own (first) `session_meta`, or null. */
export async function readFirstSessionMeta(path: string): Promise<SessionMetaLine | null> {
  let meta: SessionMetaLine | null = null;
  await streamRollout(path, (line) => {
    if (line.type === 'session_meta') {
      meta = line.payload;
      return false;
    }
    return true;
  });
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Session name index (`session_index.jsonl`, the rollout package's implementation)

/** Appends a name entry (one write, fsynced; the newest entry wins on lookup). */
export async function appendThreadName(
  codexHome: string,
  threadId: string,
  name: string,
): Promise<void> {
  await mkdir(codexHome, { recursive: true });
  await appendSessionIndexEntry(codexHome, threadId, name);
}

/** The newest non-blank name for each id asked for. */
export async function findThreadNames(
  codexHome: string,
  ids: Iterable<string>,
): Promise<Map<string, string>> {
  return findThreadNamesByIds(codexHome, ids);
}

export async function findThreadName(codexHome: string, threadId: string): Promise<string | null> {
  const name = await findThreadNameById(codexHome, threadId);
  return name === null || name.trim() === '' ? null : name;
}

/** Rewrites the index without any entry for `threadId`. */
export async function removeThreadNameEntries(codexHome: string, threadId: string): Promise<void> {
  await removeSessionIndexEntries(codexHome, threadId);
}

// ---------------------------------------------------------------------------------------------
// Find by id

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the rollout at `path` (plain or `.zst`) belongs to `threadId` by its own meta. */
export async function rolloutBelongsTo(path: string, threadId: string): Promise<boolean> {
  const file = await resolveRolloutFile(path);
  if (file === null) return false;
  try {
    const meta = await readFirstSessionMeta(file);
    return meta !== null && meta.id.toLowerCase() === threadId.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The rollout of a thread in the active (`sessions/`) or archived collection, through the
 * rollout package's DB-first lookup: a state DB row is accepted when its file's own meta names
 * the thread; otherwise a file-name search, and the row is repaired to what was found.
 * Returns the logical plain path.
 */
export async function findRolloutPath(
  codexHome: string,
  threadId: ThreadId,
  archived: boolean,
  stateDb: StateDb | undefined,
): Promise<string | null> {
  const found = await findThreadPathWithDb(codexHome, threadId, { archived, stateDb });
  return found === null ? null : plainRolloutPath(found);
}

// ---------------------------------------------------------------------------------------------
// Reconcile (state DB row from the rollout)

/**
 * Metadata of one rollout. With `codexHome`, a 0.169 fork by reference (whose history starts
 * with its base thread's lines) takes its first user message, preview and title from the base.
 */
export async function readRolloutMetadata(
  path: string,
  defaultProvider: string,
  archived: boolean,
  codexHome?: string,
): Promise<FileMetadataResult> {
  const file = (await resolveRolloutFile(path)) ?? path;
  const extracted = await extractThreadMetadataFromFile(file, {
    defaultProvider,
    archived,
    rolloutPath: plainRolloutPath(path),
  });
  if (extracted.historyBase !== null && codexHome !== undefined) {
    await applyInheritedPreview(codexHome, extracted.metadata, file);
  }
  return extracted;
}

async function applyInheritedPreview(
  codexHome: string,
  metadata: ThreadMetadata,
  file: string,
): Promise<void> {
  try {
    const history = await readThreadHistory(codexHome, file);
    for (const line of history.inheritedLines) {
      if (line.type !== 'event_msg') continue;
      const user = eventUserMessage(line.payload);
      if (user === null || user.preview === null) continue;
      metadata.preview = user.preview;
      metadata.firstUserMessage = user.preview;
      if (user.text !== '') metadata.title = user.text;
      return;
    }
  } catch {
    // A missing or unreadable base leaves the fork's own facts.
  }
}

/**
 * Re-derives the thread's row from its rollout (the rollout package's reconcile: existing git
 * and explicit titles kept, memory mode from the rollout, index name if the row has none).
 */
export async function reconcileRollout(
  stateDb: StateDb,
  path: string,
  archived: boolean,
  defaultProvider: string,
  codexHome?: string,
): Promise<ThreadMetadata | null> {
  return reconcileRolloutFile(stateDb, path, {
    archived,
    defaultProvider,
    ...(codexHome === undefined ? {} : { codexHome }),
  });
}
