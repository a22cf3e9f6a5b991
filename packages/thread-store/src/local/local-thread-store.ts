/**
 * `LocalThreadStore` (spec thread-store §4): history in rollout JSONL files under the Codex
 * home, queryable metadata in an optional state DB handle passed in (never opened here).
 * Explicit mutations are also written where SQLite-less readers see them: names to
 * `session_index.jsonl`, memory mode and git to a `session_meta` line in the rollout.
 */

import { realpathSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { encodeSessionSource, isThreadId, parseRfc3339Ms, parseThreadId } from '@skein/protocol';
import {
  type HeldFileLock,
  lockFileCreatingDir,
  plainRolloutPath,
  RolloutError,
  type RolloutHeadSummary,
  type RolloutItem,
  type RolloutLine,
  RolloutRecorder,
  readHeadSummary,
  readProjectableLines,
  readSessionMetaLine,
  readThreadHistory,
  resolveRolloutFile,
  rolloutPathFor,
  rolloutPathInHome,
  type SessionMetaLine,
  threadSpawnOf,
  threadWriterLockPath,
  warnLocksUnavailable,
} from '@skein/rollout';
import {
  defaultThreadMetadata,
  getThread,
  hasReadReceipts,
  hideUnreadableThread,
  initialReadState,
  listDescendantThreads,
  patchThreadMetadata,
  publishTurnReadReceipt,
  readReadStates,
  type StateDb,
  StateError,
  type ThreadMetadata,
  touchThreadUpdatedAt,
  updateReadState,
  upsertThread,
} from '@skein/state';
import { ThreadStoreError, toThreadStoreError } from '../errors.js';
import { collectGitInfo } from '../git-info.js';
import { persistedRolloutItems } from '../items.js';
import {
  assertThreadMetadataPatchBounds,
  hasObservedFacts,
  isThreadMetadataPatchEmpty,
  needsRolloutCompat,
  type resolveGitInfoPatch,
  sqliteWriteMustSucceed,
} from '../patch.js';
import { sessionMetaForCreate } from '../session-meta.js';
import { ThreadStoreBase } from '../thread-store.js';
import { pageItems, pageTurns } from '../turns.js';
import type {
  AppendThreadItemsParams,
  ArchiveThreadParams,
  CreateThreadParams,
  DeleteThreadParams,
  GitInfo,
  HistoryBaseRef,
  ItemPage,
  ListItemsParams,
  ListThreadsParams,
  ListTurnsParams,
  LoadThreadHistoryParams,
  ReadThreadByRolloutPathParams,
  ReadThreadParams,
  ResumeThreadParams,
  SearchThreadsParams,
  SessionSource,
  StoredThread,
  StoredThreadHistory,
  ThreadHistoryMode,
  ThreadId,
  ThreadMetadataPatch,
  ThreadPage,
  ThreadReadState,
  ThreadSearchPage,
  TurnPage,
  UpdateReadStateParams,
  UpdateThreadMetadataParams,
} from '../types.js';
import { SKEIN_CLI_VERSION } from '../version.js';
import { archiveLocalThread } from './archive-thread.js';
import { deleteLocalThread } from './delete-thread.js';
import type { LocalFileOpsHost } from './file-ops-host.js';
import { linkOutsideHomeMessage, rolloutLinkOutsideHome } from './home-links.js';
import { type LocalListingContext, listLocalThreads } from './list-threads.js';
import {
  distinctTitle,
  isArchivedRolloutPath,
  nameFromTitle,
  normalizeThreadCwd,
  storedThreadFromMetadata,
} from './mapping.js';
import { paginatedForkBase, ThreadProjection } from './paginated.js';
import {
  appendRolloutItemToPath,
  appendThreadName,
  findRolloutPath,
  findThreadName,
  pathExists,
  readFirstSessionMeta,
  readRolloutMetadata,
  reconcileRollout,
  removeThreadNameEntries,
} from './rollout-port.js';
import { searchLocalThreads } from './search-threads.js';
import { unarchiveLocalThread } from './unarchive-thread.js';

/**
 * `LocalThreadStore`'s configuration: the Codex home, the provider of threads that name none,
 * where warnings go, and how git facts are collected.
 */
export interface LocalThreadStoreConfig {
  /** The Codex home (`CODEX_HOME`, default `~/.codex`). */
  codexHome: string;
  /** Provider reported for threads whose metadata names none. Default `openai`. */
  defaultModelProvider?: string;
  /** Where warnings of best-effort steps go. Default `console.warn`. */
  warn?: (message: string) => void;
  /** Collects git facts for a new rollout's `session_meta` (default: run `git`). */
  collectGitInfo?: typeof collectGitInfo;
}

interface LiveWriterEntry {
  writer: RolloutRecorder;
  historyMode: ThreadHistoryMode;
  /** Paginated threads in a home with Codex 0.169's DB: the projection kept in step. */
  projection?: ThreadProjection | undefined;
  /** Codex's writer lock (`thread-writer-locks/<id>.lock`), held while the writer is open. */
  lock?: HeldFileLock | undefined;
  /** The row was seen naming the writer's file: later flushes skip the lookup. */
  rowPathSynced?: boolean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function canonicalize(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function itemsOf(lines: readonly RolloutLine[]): RolloutItem[] {
  return lines.map((line) => {
    const { timestamp: _t, ordinal: _o, metadata: _m, ...item } = line;
    return item as RolloutItem;
  });
}

/**
 * The `ThreadStore` of a Codex home: rollout JSONL files plus Codex's SQLite index (the `StateDb`
 * an app built once with `initStateDb`; without one, files only), written as Codex writes them.
 * One writer per thread across processes (Codex's writer lock). `close()` shuts every live writer
 * down.
 */
export class LocalThreadStore extends ThreadStoreBase {
  readonly codexHome: string;
  readonly defaultModelProvider: string;
  private handle: StateDb | undefined;
  private readonly writers = new Map<ThreadId, LiveWriterEntry>();
  private readonly warn: (message: string) => void;
  private readonly gitInfo: typeof collectGitInfo;

  constructor(config: LocalThreadStoreConfig, stateDb?: StateDb) {
    super();
    this.codexHome = canonicalize(config.codexHome);
    this.defaultModelProvider = config.defaultModelProvider ?? 'openai';
    this.handle = stateDb;
    this.warn = config.warn ?? ((text) => console.warn(text));
    this.gitInfo = config.collectGitInfo ?? collectGitInfo;
  }

  /** The state DB handle this store was given, if any. */
  get stateDb(): StateDb | undefined {
    return this.handle;
  }

  /**
   * Switches a store that started without the index (another process was still building it)
   * to the handle once it is ready; from then on it answers as any indexed store. Ignored when
   * the store already has one.
   */
  attachStateDb(stateDb: StateDb): boolean {
    if (this.handle !== undefined) return false;
    this.handle = stateDb;
    return true;
  }

  /**
   * New threads take the mode the home's Codex writes (ARCHITECTURE decision 3): 0.169's
   * paginated history where its DB is 0.169's, legacy lines elsewhere (a 0.131 DB, or none).
   */
  override defaultHistoryMode(): ThreadHistoryMode {
    return this.handle?.writesPaginatedHistory ? 'paginated' : 'legacy';
  }

  /** Where a paginated fork of `sourceId` starts (see `ThreadStore.forkBase`). */
  async forkBase(
    sourceId: ThreadId,
    options: { afterTurnId?: string } = {},
  ): Promise<HistoryBaseRef | null> {
    const path = await this.locateRollout(sourceId, true);
    const file = (await resolveRolloutFile(path)) ?? path;
    const meta = await readFirstSessionMeta(file).catch(() => null);
    if (meta?.history_mode !== 'paginated') return null;
    return paginatedForkBase(sourceId, file, options.afterTurnId, async (id) => {
      // A base may be archived: the fork still reads through it.
      const active = await findRolloutPath(this.codexHome, id, false, this.handle);
      return active ?? findRolloutPath(this.codexHome, id, true, this.handle);
    });
  }

  /** Shuts down every live writer (flushing what they hold). The state handle stays open. */
  async close(): Promise<void> {
    const entries = [...this.writers.entries()];
    this.writers.clear();
    await Promise.allSettled(
      entries.map(async ([, entry]) => {
        try {
          await entry.writer.shutdown();
        } finally {
          await entry.lock?.release();
        }
      }),
    );
  }

  /**
   * Codex's writer lock for a thread: 0.169 holds `flock` on `thread-writer-locks/<id>.lock`
   * while a thread's writer is open, and so does Skein, so the two never append to one rollout
   * at once (ordinals and the projection would fork). Held by another process: the refusal
   * Codex gives. Without flock support, writers go uncoordinated (said once).
   */
  private async takeWriterLock(threadId: ThreadId): Promise<HeldFileLock | undefined> {
    const result = await lockFileCreatingDir(threadWriterLockPath(this.codexHome, threadId), {
      waitMs: 0,
    }).catch((error: unknown) => {
      throw ThreadStoreError.internal(`failed to take the writer lock: ${message(error)}`, error);
    });
    if (result.locked) return result.lock;
    if (result.reason === 'unavailable') {
      warnLocksUnavailable(this.warn);
      return undefined;
    }
    throw ThreadStoreError.invalidRequest(`thread ${threadId} already has an active writer`);
  }

  /** Refuses to move or delete a thread another process (or store) is writing. */
  private async assertNoOtherWriter(threadId: ThreadId): Promise<void> {
    if (this.writers.has(threadId)) return;
    const lock = await this.takeWriterLock(threadId);
    await lock?.release();
  }

  /** The live writer's rollout path; `ThreadNotFound` without a live writer. */
  liveRolloutPath(threadId: ThreadId): string {
    const entry = this.writers.get(threadId);
    if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
    return entry.writer.path;
  }

  // -------------------------------------------------------------------------------------------
  // Live writer lifecycle

  async createThread(params: CreateThreadParams): Promise<void> {
    const { threadId } = params;
    if (this.writers.has(threadId)) throw this.duplicateWriter(threadId);
    const historyMode = params.historyMode ?? 'legacy';
    // Paginated history lives in Codex 0.169's DBs (its projection); elsewhere it is legacy.
    if (historyMode === 'paginated' && !this.handle?.writesPaginatedHistory) {
      throw ThreadStoreError.unsupported('paginated_threads');
    }
    const cwd = params.metadata.cwd;
    if (cwd === null || cwd === '') {
      throw ThreadStoreError.invalidRequest('local thread store requires a cwd');
    }
    const lock = await this.takeWriterLock(threadId);
    const createdAt = new Date(params.createdAtMs ?? Date.now());
    const path = rolloutPathFor(this.codexHome, threadId, createdAt);
    const firstOrdinal =
      historyMode === 'paginated' ? (params.historyBase?.endOrdinalExclusive ?? 0) : undefined;
    const projection =
      firstOrdinal !== undefined && this.handle !== undefined
        ? ThreadProjection.forNewFile(this.handle, threadId, path, firstOrdinal, this.warn)
        : undefined;
    let writer: RolloutRecorder;
    try {
      writer = RolloutRecorder.createWithSessionMeta({
        path,
        threadId,
        buildSessionMeta: () => this.sessionMetaFor(params, cwd, createdAt),
        // The store materializes on any flush or append with items (spec §4.5 step 5).
        materializeOnFlush: true,
        ...(firstOrdinal !== undefined ? { firstOrdinal } : {}),
        ...(projection ? { onWritten: projection.onWritten } : {}),
      });
    } catch (error) {
      await lock?.release();
      throw ThreadStoreError.internal(
        `failed to initialize local thread recorder: ${message(error)}`,
        error,
      );
    }
    if (this.writers.has(threadId)) {
      await lock?.release();
      throw this.duplicateWriter(threadId);
    }
    this.writers.set(threadId, { writer, historyMode, projection, lock });
  }

  private duplicateWriter(threadId: ThreadId): ThreadStoreError {
    return ThreadStoreError.invalidRequest(`thread ${threadId} already has a live local writer`);
  }

  private async sessionMetaFor(
    params: CreateThreadParams,
    cwd: string,
    createdAt: Date,
  ): Promise<SessionMetaLine> {
    const git = await this.gitInfo(cwd).catch(() => null);
    return sessionMetaForCreate(params, {
      timestamp: createdAt.toISOString(),
      cwd,
      cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
      git: git === null ? null : gitLineOf(git),
    });
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    const { threadId } = params;
    if (this.writers.has(threadId)) throw this.duplicateWriter(threadId);
    const includeArchived = params.includeArchived ?? false;
    let historyMode: ThreadHistoryMode;
    let known: StoredThread | undefined;
    if (params.history != null) {
      historyMode = historyModeOfItems(params.history);
    } else if (params.rolloutPath != null) {
      known = await this.readThreadByRolloutPath({
        rolloutPath: params.rolloutPath,
        includeArchived,
      });
      historyMode = known.historyMode;
    } else {
      known = await this.readThread({ threadId, includeArchived });
      historyMode = known.historyMode;
    }
    let path = params.rolloutPath ?? null;
    if (path === null) {
      known ??= await this.readThread({ threadId, includeArchived });
      path = known.rolloutPath;
      if (path === null) {
        throw ThreadStoreError.internal(`thread ${threadId} does not have a rollout path`);
      }
    }
    const cwd = params.metadata.cwd;
    if (cwd === null || cwd === '') {
      throw ThreadStoreError.invalidRequest('local thread store requires a cwd');
    }
    const absolute = isAbsolute(path) ? path : join(this.codexHome, path);
    const lock = await this.takeWriterLock(threadId);
    let writer: RolloutRecorder;
    let projection: ThreadProjection | undefined;
    try {
      if (historyMode === 'paginated') {
        // Opening the writer repairs the projection, as Codex's does; ordinals continue.
        const file = (await resolveRolloutFile(absolute)) ?? absolute;
        let nextOrdinal: number;
        if (this.handle !== undefined && this.handle.historyDb() !== undefined) {
          const opened = await ThreadProjection.open(this.handle, threadId, file, this.warn);
          projection = opened.projection;
          nextOrdinal = opened.nextOrdinal;
        } else {
          nextOrdinal = ((await readProjectableLines(file)).at(-1)?.ordinal ?? -1) + 1;
        }
        writer = await RolloutRecorder.resume(absolute, {
          nextOrdinal,
          ...(projection ? { onWritten: projection.onWritten } : {}),
        });
      } else {
        writer = await RolloutRecorder.resume(absolute);
      }
    } catch (error) {
      await lock?.release();
      if (error instanceof ThreadStoreError) throw error;
      throw ThreadStoreError.internal(
        `failed to resume local thread recorder: ${message(error)}`,
        error,
      );
    }
    if (this.writers.has(threadId)) {
      await writer.discard();
      await lock?.release();
      throw this.duplicateWriter(threadId);
    }
    this.writers.set(threadId, { writer, historyMode, projection, lock });
  }

  private writerFor(threadId: ThreadId): RolloutRecorder {
    const entry = this.writers.get(threadId);
    if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
    return entry.writer;
  }

  private writerError(threadId: ThreadId, error: unknown): ThreadStoreError {
    if (error instanceof ThreadStoreError) return error;
    if (error instanceof RolloutError && error.code === 'RecorderClosed') {
      return ThreadStoreError.threadNotFound(threadId);
    }
    return ThreadStoreError.internal(message(error), error);
  }

  /** History only: the policy filters, the writer writes; no metadata is derived here. */
  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    const entry = this.writers.get(params.threadId);
    const canonical = persistedRolloutItems(params.items, entry?.historyMode ?? 'legacy');
    if (canonical.length === 0) return;
    const writer = this.writerFor(params.threadId);
    try {
      writer.record(canonical);
      // Written before returning (not fsynced; flush does that), so SQLite, written after us,
      // never gets ahead of the JSONL.
      await writer.writeBuffered();
    } catch (error) {
      throw this.writerError(params.threadId, error);
    }
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    const writer = this.writerFor(threadId);
    try {
      await writer.persist();
    } catch (error) {
      throw this.writerError(threadId, error);
    }
    await this.syncMaterializedRolloutPath(threadId, writer);
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    const writer = this.writerFor(threadId);
    try {
      await writer.flush();
    } catch (error) {
      throw this.writerError(threadId, error);
    }
    await this.syncMaterializedRolloutPath(threadId, writer);
  }

  /**
   * Soft: points an existing row at the writer's file when they differ. Once the row names the
   * file, later flushes of the same writer skip the lookup (a flush per turn stays one fsync).
   */
  private async syncMaterializedRolloutPath(
    threadId: ThreadId,
    writer: RolloutRecorder,
  ): Promise<void> {
    const db = this.handle;
    if (db === undefined || !writer.materialized) return;
    const entry = this.writers.get(threadId);
    if (entry?.writer === writer && entry.rowPathSynced === true) return;
    try {
      const row = await getThread(db.ctx, threadId);
      if (row !== undefined && row.rolloutPath !== writer.path) {
        await upsertThread(db.ctx, { ...row, rolloutPath: writer.path, recencyAtMs: 0 });
      }
      // No row yet: the rows this store writes name the writer's file (see below).
      if (entry?.writer === writer) entry.rowPathSynced = true;
    } catch (error) {
      this.warn(`failed to sync rollout path for thread ${threadId}: ${message(error)}`);
    }
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    const entry = this.writers.get(threadId);
    if (entry === undefined) throw ThreadStoreError.threadNotFound(threadId);
    try {
      await entry.writer.shutdown();
    } catch (error) {
      throw ThreadStoreError.internal(
        `shutdown cleanup task failed for thread ${threadId}: ${message(error)}`,
        error,
      );
    }
    await this.syncMaterializedRolloutPath(threadId, entry.writer);
    if (this.writers.get(threadId) === entry) this.writers.delete(threadId);
    await entry.lock?.release();
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    const entry = this.writers.get(threadId);
    if (entry === undefined) return;
    try {
      await entry.writer.discard();
    } catch (error) {
      throw ThreadStoreError.internal(
        `discard cleanup task failed for thread ${threadId}: ${message(error)}`,
        error,
      );
    } finally {
      if (this.writers.get(threadId) === entry) this.writers.delete(threadId);
      await entry.lock?.release();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    const { threadId } = params;
    const includeArchived = params.includeArchived ?? false;
    const entry = this.writers.get(threadId);
    if (entry !== undefined) {
      if (!includeArchived && isArchivedRolloutPath(entry.writer.path)) {
        throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
      }
      // Not materialized yet: nothing is durable.
      if (!(await pathExists(entry.writer.path))) return { threadId, items: [] };
      return this.loadHistoryAt(threadId, entry.writer.path);
    }
    const thread = await this.readThread({ threadId, includeArchived, includeHistory: true });
    if (thread.history === null) {
      throw ThreadStoreError.internal(`failed to load history for thread ${threadId}`);
    }
    return thread.history;
  }

  private async loadHistoryAt(threadId: ThreadId, path: string): Promise<StoredThreadHistory> {
    try {
      const file = (await resolveRolloutFile(path)) ?? path;
      const read = await readThreadHistory(this.codexHome, file);
      return { threadId, items: itemsOf([...read.inheritedLines, ...read.lines]) };
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to load thread history ${path}: ${message(error)}`,
        error,
      );
    }
  }

  /** The rollout-derived metadata of a file, or undefined when unreadable. */
  private async rolloutMetadata(
    path: string,
    archived: boolean,
  ): Promise<ThreadMetadata | undefined> {
    try {
      const extracted = await readRolloutMetadata(
        path,
        this.defaultModelProvider,
        archived,
        this.codexHome,
      );
      if (!extracted.hasSessionMeta) return undefined;
      const metadata = extracted.metadata;
      metadata.archivedAtMs = archived ? metadata.updatedAtMs : null;
      return metadata;
    } catch {
      return undefined;
    }
  }

  /** A summary straight from a rollout file, with the name from the name index. */
  private async storedThreadFromRollout(
    path: string,
    archived: boolean,
  ): Promise<StoredThread | undefined> {
    const metadata = await this.rolloutMetadata(path, archived);
    if (metadata === undefined) return undefined;
    const thread = storedThreadFromMetadata({ ...metadata, name: null }, this.defaultModelProvider);
    thread.rolloutPath = plainRolloutPath(path);
    // Codex 0.169 names the parent its session meta names (a 0.131 sub-agent's names none).
    const meta = await readFirstSessionMeta(path).catch(() => null);
    thread.parentThreadId = toThreadIdOrNull(meta?.parent_thread_id);
    thread.name = nameFromTitle(
      await findThreadName(this.codexHome, metadata.id).catch(() => null),
      thread.preview,
    );
    return thread;
  }

  private async stateRow(threadId: ThreadId): Promise<ThreadMetadata | undefined> {
    if (this.handle === undefined) return undefined;
    try {
      return this.inHome(await getThread(this.handle.ctx, threadId));
    } catch (error) {
      this.warn(`state db read failed for thread ${threadId}: ${message(error)}`);
      return undefined;
    }
  }

  /**
   * A row as this home sees it: its rollout path re-rooted here when the home was copied or
   * moved, or '' when it names no place in this home (then the file is searched for; nothing
   * outside the home is read or written through a row).
   */
  private inHome(row: ThreadMetadata | undefined): ThreadMetadata | undefined {
    if (row === undefined) return undefined;
    const path = rolloutPathInHome(this.codexHome, row.rolloutPath);
    return path === row.rolloutPath ? row : { ...row, rolloutPath: path ?? '' };
  }

  /** The name of a thread known to SQLite: explicit name, then a distinct title, then index. */
  private async nameForRow(row: ThreadMetadata, preview: string): Promise<string | null> {
    if (row.name !== null && row.name.trim() !== '') return nameFromTitle(row.name, preview);
    const title = distinctTitle(row);
    if (title !== null) return nameFromTitle(title, preview);
    return nameFromTitle(await findThreadName(this.codexHome, row.id).catch(() => null), preview);
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    const { threadId } = params;
    const includeArchived = params.includeArchived ?? false;
    const includeHistory = params.includeHistory ?? false;
    const row = await this.stateRow(threadId);

    // Step A: SQLite first, verified against the rollout's own session meta.
    if (
      row !== undefined &&
      row.rolloutPath !== '' &&
      (includeArchived || (!row.archived && !isArchivedRolloutPath(row.rolloutPath)))
    ) {
      await this.refuseLinkOutsideHome(row.rolloutPath);
      const head = await readHeadSummary(row.rolloutPath).catch(() => undefined);
      if (head !== undefined && !head.startsWithSessionMeta) {
        const unreadable = await this.unreadableRollout(threadId, row.rolloutPath);
        if (unreadable !== null) throw unreadable;
      }
      const verified = head !== undefined && head.threadId === threadId;
      if (!includeHistory || verified) {
        let thread = await this.mergeRowAndHead(row, verified ? head : undefined);
        if (!includeHistory && verified && head !== undefined) {
          thread = legacyRolloutView(thread, head, this.defaultModelProvider) ?? thread;
        }
        if (includeHistory) {
          thread.history = await this.loadHistoryAt(threadId, row.rolloutPath);
        }
        return thread;
      }
    }

    // Step B: the filesystem.
    const path = await this.locateRollout(threadId, includeArchived);
    await this.refuseLinkOutsideHome(path);
    const archived = isArchivedRolloutPath(path);
    const thread = await this.storedThreadFromRollout(path, archived);
    if (thread === undefined) {
      throw (
        (await this.unreadableRollout(threadId, path)) ??
        ThreadStoreError.internal(`failed to read thread ${threadId} from ${path}`)
      );
    }
    if (!includeArchived && archived) {
      throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
    }
    if (row !== undefined) {
      // A row that pointed elsewhere was repaired by the DB-first lookup above.
      const rowName = await this.nameForRow(row, thread.preview);
      if (rowName !== null) thread.name = rowName;
      const git = { ...row };
      if (git.gitSha !== null || git.gitBranch !== null || git.gitOriginUrl !== null) {
        thread.gitInfo = {
          commitHash: row.gitSha ?? thread.gitInfo?.commitHash ?? null,
          branch: row.gitBranch ?? thread.gitInfo?.branch ?? null,
          repositoryUrl: row.gitOriginUrl ?? thread.gitInfo?.repositoryUrl ?? null,
        };
      }
    }
    if (includeHistory) {
      thread.history = await this.loadHistoryAt(threadId, path);
    }
    return thread;
  }

  /**
   * The error for a thread whose rollout exists but cannot be read — emptied, or its first line
   * is not a valid session_meta — said plainly (an invalid request, never an internal error),
   * or null when the file reads (or is gone). Its row is hidden from lists the way a
   * never-messaged thread is (preview cleared), so no list offers a thread that cannot be
   * opened; the row, its name and its DB-only facts stay, and a reindex of a readable file
   * lists it again.
   */
  private async unreadableRollout(
    threadId: ThreadId,
    path: string,
  ): Promise<ThreadStoreError | null> {
    let reason: string;
    try {
      await readSessionMetaLine(path);
      return null;
    } catch (error) {
      const code = error instanceof RolloutError ? error.code : null;
      if (code !== 'EmptyFile' && code !== 'MissingSessionMeta') return null;
      reason = (error as Error).message;
    }
    if (this.handle !== undefined && this.handle.ctx.profile.readOnlyReason === null) {
      await hideUnreadableThread(this.handle.ctx, threadId, plainRolloutPath(path)).catch(
        (error: unknown) =>
          this.warn(`could not hide unreadable thread ${threadId}: ${message(error)}`),
      );
    }
    return ThreadStoreError.invalidRequest(`failed to read thread ${threadId}: ${reason}`);
  }

  /**
   * Refuses (Conflict, nothing read or written) a thread whose rollout is a link — or lies
   * under a linked folder — leading out of the home. A path that does not exist passes.
   */
  private async refuseLinkOutsideHome(path: string): Promise<void> {
    const target = await rolloutLinkOutsideHome(this.codexHome, path);
    if (target !== null) {
      throw ThreadStoreError.conflict(linkOutsideHomeMessage(this.codexHome, path, target));
    }
  }

  /**
   * The SQLite summary as Codex answers it (its DB is the record of every writer), with what
   * its columns cannot hold taken from the verified rollout head: the fork source, a parent
   * the edge table lacks, and the originator where the DB has no column for it (0.131). Only
   * the head of the file is read, so a summary read costs the same for any thread length.
   */
  private async mergeRowAndHead(
    row: ThreadMetadata,
    head: RolloutHeadSummary | undefined,
  ): Promise<StoredThread> {
    const thread = storedThreadFromMetadata(row, this.defaultModelProvider);
    const meta = head?.sessionMeta ?? null;
    if (meta !== null) {
      thread.forkedFromId = toThreadIdOrNull(meta.forked_from_id) ?? thread.forkedFromId;
      // Codex 0.169 names the parent its session meta names (a 0.131 sub-agent's names none).
      thread.parentThreadId = toThreadIdOrNull(meta.parent_thread_id);
      if (
        thread.originator === null &&
        typeof meta.originator === 'string' &&
        meta.originator !== ''
      ) {
        thread.originator = meta.originator;
      }
    }
    thread.name = await this.nameForRow(row, thread.preview);
    return thread;
  }

  /** The live writer's file, else the active rollout, else (if allowed) the archived one. */
  private async locateRollout(threadId: ThreadId, includeArchived: boolean): Promise<string> {
    const entry = this.writers.get(threadId);
    if (entry !== undefined && (await pathExists(entry.writer.path))) {
      if (includeArchived || !isArchivedRolloutPath(entry.writer.path)) return entry.writer.path;
    }
    let found: string | null;
    try {
      found = await findRolloutPath(this.codexHome, threadId, false, this.handle);
    } catch (error) {
      throw ThreadStoreError.invalidRequest(
        `failed to locate thread id ${threadId}: ${message(error)}`,
      );
    }
    if (found === null && includeArchived) {
      try {
        found = await findRolloutPath(this.codexHome, threadId, true, this.handle);
      } catch (error) {
        throw ThreadStoreError.invalidRequest(
          `failed to locate archived thread id ${threadId}: ${message(error)}`,
        );
      }
    }
    if (found === null) {
      throw ThreadStoreError.invalidRequest(`no rollout found for thread id ${threadId}`);
    }
    return found;
  }

  async readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    const includeArchived = params.includeArchived ?? false;
    const given = isAbsolute(params.rolloutPath)
      ? params.rolloutPath
      : join(this.codexHome, params.rolloutPath);
    const display = params.rolloutPath;
    try {
      const info = await lstat(given);
      if (info.isDirectory()) {
        throw ThreadStoreError.invalidRequest(
          `failed to resolve rollout path \`${display}\`: path is a directory`,
        );
      }
      if (!info.isFile() && !info.isSymbolicLink()) {
        throw ThreadStoreError.invalidRequest(
          `failed to resolve rollout path \`${display}\`: path is not a file`,
        );
      }
    } catch (error) {
      if (error instanceof ThreadStoreError) throw error;
    }
    const file = await resolveRolloutFile(given);
    if (file === null) {
      throw ThreadStoreError.invalidRequest(
        `failed to resolve rollout path \`${display}\`: file does not exist`,
      );
    }
    // A path in the home must stay in it (a path named outside the home is the caller's own).
    if (rolloutPathInHome(this.codexHome, resolve(given)) === resolve(given)) {
      await this.refuseLinkOutsideHome(given);
    }
    const canonical = plainRolloutPath(canonicalize(file));
    const archived = isArchivedRolloutPath(canonical);
    const thread = await this.storedThreadFromRollout(canonical, archived);
    if (thread === undefined) {
      throw ThreadStoreError.invalidRequest(
        `failed to resolve rollout path \`${display}\`: not a readable rollout`,
      );
    }
    if (!includeArchived && archived) {
      throw ThreadStoreError.invalidRequest(`thread ${thread.threadId} is archived`);
    }
    const row = await this.stateRow(thread.threadId);
    if (row !== undefined) {
      thread.gitInfo = mergeGit(row, thread.gitInfo);
      const rowName = await this.nameForRow(row, thread.preview);
      if (rowName !== null) thread.name = rowName;
    }
    thread.rolloutPath = canonical;
    if (params.includeHistory === true) {
      thread.history = await this.loadHistoryAt(thread.threadId, canonical);
    }
    return thread;
  }

  // -------------------------------------------------------------------------------------------
  // Listing

  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    return listLocalThreads(this.listingContext(), params);
  }

  /** The state index's spawn edges (open and closed); null while there is no index. */
  async listSpawnDescendants(threadId: ThreadId): Promise<ThreadId[] | null> {
    const db = this.handle;
    if (db === undefined) return null;
    try {
      return (await listDescendantThreads(db.ctx, threadId)).map((edge) => edge.childId);
    } catch (error) {
      throw toThreadStoreError(error, `failed to list spawn descendants of ${threadId}`);
    }
  }

  /** What the listing operations read: the home, the default provider, the state handle. */
  private listingContext(): LocalListingContext {
    return {
      codexHome: this.codexHome,
      defaultModelProvider: this.defaultModelProvider,
      stateDb: this.handle,
    };
  }

  /**
   * Threads whose visible conversation contains `searchTerm` (case-insensitive), in listing
   * order with the listing's filters and cursors, each with a snippet of its first match.
   */
  override async searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage> {
    return searchLocalThreads(
      { codexHome: this.codexHome, listThreads: (list) => this.listThreads(list) },
      params,
    );
  }

  override async listTurns(params: ListTurnsParams): Promise<TurnPage> {
    const history = await this.historyLines(params.threadId, params.includeArchived ?? false);
    return pageTurns(history, {
      cursor: params.cursor,
      pageSize: params.pageSize,
      direction: params.sortDirection ?? 'asc',
      view: params.itemsView ?? 'summary',
    });
  }

  override async listItems(params: ListItemsParams): Promise<ItemPage> {
    const history = await this.historyLines(params.threadId, params.includeArchived ?? false);
    return pageItems(history, {
      turnId: params.turnId,
      cursor: params.cursor,
      pageSize: params.pageSize,
      direction: params.sortDirection ?? 'asc',
    });
  }

  /** Lines (with timestamps) of a thread's rollout, via the live writer or a lookup. */
  private async historyLines(threadId: ThreadId, includeArchived: boolean): Promise<RolloutLine[]> {
    const entry = this.writers.get(threadId);
    let path: string;
    if (entry !== undefined && (await pathExists(entry.writer.path))) {
      if (!includeArchived && isArchivedRolloutPath(entry.writer.path)) {
        throw ThreadStoreError.invalidRequest(`thread ${threadId} is archived`);
      }
      path = entry.writer.path;
    } else {
      const thread = await this.readThread({ threadId, includeArchived });
      if (thread.rolloutPath === null) {
        throw ThreadStoreError.internal(`failed to load thread history for thread ${threadId}`);
      }
      path = thread.rolloutPath;
    }
    try {
      const file = (await resolveRolloutFile(path)) ?? path;
      const read = await readThreadHistory(this.codexHome, file);
      return [...read.inheritedLines, ...read.lines];
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to load thread history ${path}: ${message(error)}`,
        error,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    assertThreadMetadataPatchBounds(params.patch);
    const { threadId, patch } = params;
    const includeArchived = params.includeArchived ?? false;
    if (isThreadMetadataPatchEmpty(patch)) {
      return this.readThread({ threadId, includeArchived });
    }
    const applied = await this.applyMetadataPatch(params);
    if (applied !== undefined) return applied;
    const live = await this.liveThreadFromRow(threadId);
    return live ?? this.readThread({ threadId, includeArchived });
  }

  /**
   * `updateThreadMetadata` for a LiveThread's derived patches: the same writes, without
   * building the summary it would return (a row read and a name-index read per append).
   */
  async applyDerivedMetadata(params: UpdateThreadMetadataParams): Promise<void> {
    if (isThreadMetadataPatchEmpty(params.patch)) return;
    await this.applyMetadataPatch(params);
  }

  /** The writes of a metadata update; returns the thread when the rollout half built it. */
  private async applyMetadataPatch(
    params: UpdateThreadMetadataParams,
  ): Promise<StoredThread | undefined> {
    const { threadId, patch } = params;
    const includeArchived = params.includeArchived ?? false;
    const db = this.handle;
    // An update that appends to the rollout needs the thread's writer lock, taken before
    // anything is written: refused, like a second Codex, while another process writes it.
    const lock = (await this.appendsToRollout(threadId, patch))
      ? await this.takeWriterLock(threadId)
      : undefined;
    try {
      if (db !== undefined) {
        try {
          await this.writeStatePatch(db, threadId, patch, includeArchived);
        } catch (error) {
          const failure = toThreadStoreError(error);
          if (failure.code !== 'Internal' || sqliteWriteMustSucceed(patch)) throw failure;
          this.warn(`state db update_thread_metadata failed for ${threadId}: ${failure.detail}`);
        }
      }
      if (!needsRolloutCompat(patch)) return undefined;
      return await this.applyRolloutCompat(threadId, patch, includeArchived);
    } finally {
      await lock?.release();
    }
  }

  /**
   * Whether an explicit update appends a `session_meta` line to a rollout this store is not
   * writing: a memory mode, or git on a legacy thread (paginated threads keep git in the DB).
   */
  private async appendsToRollout(threadId: ThreadId, patch: ThreadMetadataPatch): Promise<boolean> {
    if (this.writers.has(threadId) || !needsRolloutCompat(patch)) return false;
    if (patch.memoryMode !== undefined) return true;
    if (patch.gitInfo === undefined) return false;
    const row = await this.stateRow(threadId);
    if (row !== undefined) return row.historyMode !== 'paginated';
    return true;
  }

  /**
   * For a thread this store is writing, the row that was just updated from the same facts the
   * rollout holds is the current summary; returning it spares re-reading the rollout on every
   * derived update (one per LiveThread append).
   */
  private async liveThreadFromRow(threadId: ThreadId): Promise<StoredThread | undefined> {
    const entry = this.writers.get(threadId);
    if (entry === undefined || this.handle === undefined) return undefined;
    const row = await this.stateRow(threadId);
    if (row === undefined || row.rolloutPath !== entry.writer.path) return undefined;
    const thread = storedThreadFromMetadata(row, this.defaultModelProvider);
    thread.name = await this.nameForRow(row, thread.preview);
    return thread;
  }

  /** The SQLite half of an update: seed a missing row, then apply each present field. */
  private async writeStatePatch(
    db: StateDb,
    threadId: ThreadId,
    patch: ThreadMetadataPatch,
    includeArchived: boolean,
  ): Promise<void> {
    if (isTouchOnly(patch)) {
      // A LiveThread sends one per user message: one UPDATE instead of a read and an upsert.
      try {
        if (await touchThreadUpdatedAt(db.ctx, threadId, patch.updatedAtMs)) return;
      } catch (error) {
        throw ThreadStoreError.internal(
          `failed to update thread metadata for ${threadId}: ${message(error)}`,
          error,
        );
      }
    }
    const entry = this.writers.get(threadId);
    // A patch naming another file: the next flush looks at the row again.
    if (entry !== undefined && patch.rolloutPath != null && patch.rolloutPath !== entry.writer.path)
      entry.rowPathSynced = false;
    let rolloutPath = patch.rolloutPath ?? entry?.writer.path ?? null;
    let existing: ThreadMetadata | undefined;
    try {
      existing = this.inHome(await getThread(db.ctx, threadId));
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to update thread metadata for ${threadId}: ${message(error)}`,
        error,
      );
    }
    if (existing === undefined && rolloutPath === null) {
      rolloutPath = await this.locateForUpdate(threadId, includeArchived);
    }
    const path = rolloutPath ?? existing?.rolloutPath ?? '';
    const archived = existing?.archived ?? isArchivedRolloutPath(path);
    let next: ThreadMetadata;
    if (existing !== undefined) {
      next = { ...existing };
    } else {
      const fromFile = await this.rolloutMetadata(path, archived);
      const createdAtMs = patch.createdAtMs ?? patch.updatedAtMs ?? Date.now();
      next =
        fromFile !== undefined && fromFile.id === threadId
          ? fromFile
          : defaultThreadMetadata(
              threadId,
              path,
              createdAtMs,
              encodeSessionSource(patch.source ?? 'unknown'),
              this.defaultModelProvider,
            );
      next.archived = archived;
      next.archivedAtMs = archived ? (patch.updatedAtMs ?? next.updatedAtMs) : null;
      if (entry !== undefined) next.historyMode = entry.historyMode;
    }
    applyObservedFacts(next, patch, path);
    next.recencyAtMs = 0;
    try {
      if (existing === undefined || hasObservedFacts(patch) || patch.updatedAtMs !== undefined) {
        await upsertThread(db.ctx, next);
      }
      // An explicit git update writes exactly the fields it names, in one UPDATE, as Codex
      // 0.169 does: another process's update of the other fields in between is kept. Observed
      // git (a transcript's session_meta) only seeds a new row; an existing one keeps its own.
      const git =
        patch.gitInfo !== undefined && !hasObservedFacts(patch) ? patch.gitInfo : undefined;
      const literal = {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(git !== undefined ? { git } : {}),
        ...(patch.advanceRecencyAtMs !== undefined
          ? { advanceRecencyAtMs: patch.advanceRecencyAtMs }
          : {}),
      };
      if (Object.keys(literal).length > 0) await patchThreadMetadata(db.ctx, threadId, literal);
    } catch (error) {
      throw ThreadStoreError.internal(
        `failed to update thread metadata for ${threadId}: ${message(error)}`,
        error,
      );
    }
    if (patch.memoryMode !== undefined) {
      try {
        await patchThreadMetadata(db.ctx, threadId, { memoryMode: patch.memoryMode });
      } catch (error) {
        throw ThreadStoreError.internal(
          `failed to update memory mode for ${threadId}: ${message(error)}`,
          error,
        );
      }
    }
  }

  private async locateForUpdate(threadId: ThreadId, includeArchived: boolean): Promise<string> {
    const entry = this.writers.get(threadId);
    if (entry !== undefined) return entry.writer.path;
    let found: string | null;
    try {
      found = await findRolloutPath(this.codexHome, threadId, false, this.handle);
      if (found === null && includeArchived) {
        found = await findRolloutPath(this.codexHome, threadId, true, this.handle);
      }
    } catch (error) {
      throw ThreadStoreError.invalidRequest(
        `failed to locate thread id ${threadId}: ${message(error)}`,
      );
    }
    if (found === null) throw ThreadStoreError.invalidRequest(`thread not found: ${threadId}`);
    await this.refuseLinkOutsideHome(found);
    return found;
  }

  /** Mirrors explicit mutations into the rollout and name index (always hard failures). */
  private async applyRolloutCompat(
    threadId: ThreadId,
    patch: ThreadMetadataPatch,
    includeArchived: boolean,
  ): Promise<StoredThread> {
    const entry = this.writers.get(threadId);
    if (entry !== undefined) await this.persistThread(threadId);
    const path = await this.locateForUpdate(threadId, includeArchived);
    const archived = isArchivedRolloutPath(path);
    const db = this.handle;

    if (patch.memoryMode !== undefined) {
      try {
        const meta = await this.ownSessionMeta(threadId, path, 'failed to set thread memory mode');
        const { git: _git, ...withoutGit } = meta;
        await appendRolloutItemToPath(path, {
          type: 'session_meta',
          payload: { ...withoutGit, memory_mode: patch.memoryMode },
        });
      } catch (error) {
        throw toThreadStoreError(error, 'failed to set thread memory mode');
      }
    }
    // The git values after the SQLite half wrote the named fields (with whatever another
    // process wrote to the others), captured before reconcile re-reads the rollout.
    let resolvedGit: ReturnType<typeof resolveGitInfoPatch> | undefined;
    if (patch.gitInfo !== undefined) {
      if (db === undefined) {
        throw ThreadStoreError.internal(`sqlite state db unavailable for thread ${threadId}`);
      }
      const row = await getThread(db.ctx, threadId).catch(() => undefined);
      if (row === undefined) {
        throw ThreadStoreError.internal(
          `thread metadata unavailable before git update: ${threadId}`,
        );
      }
      resolvedGit = { sha: row.gitSha, branch: row.gitBranch, originUrl: row.gitOriginUrl };
    }
    // Only a memory-mode line changes what the rollout says about the row; a rename or a git
    // update leaves every other column as it was (spec codex-db-effects §2.2-2.3).
    if (db !== undefined && patch.memoryMode !== undefined) {
      try {
        await reconcileRollout(db, path, archived, this.defaultModelProvider, this.codexHome);
      } catch (error) {
        this.warn(`failed to reconcile thread ${threadId}: ${message(error)}`);
      }
    }
    if (patch.name !== undefined) {
      // The SQLite half already wrote the name (best-effort, spec §6.6); the name index below
      // is what SQLite-less readers and the Codex CLI see, and it must succeed.
      if (db !== undefined) {
        try {
          const updated = await patchThreadMetadata(db.ctx, threadId, { name: patch.name });
          if (!updated) this.warn(`thread metadata unavailable before name update: ${threadId}`);
        } catch (error) {
          this.warn(`failed to set thread name in the state db: ${message(error)}`);
        }
      }
      try {
        if (patch.name === null || patch.name.trim() === '') {
          await removeThreadNameEntries(this.codexHome, threadId);
        } else {
          await appendThreadName(this.codexHome, threadId, patch.name);
        }
      } catch (error) {
        throw ThreadStoreError.internal(`failed to index thread name: ${message(error)}`, error);
      }
    }
    if (resolvedGit !== undefined && db !== undefined) {
      const row = await getThread(db.ctx, threadId).catch(() => undefined);
      try {
        const meta = await this.ownSessionMeta(threadId, path, 'failed to set thread git metadata');
        // Paginated threads keep git in the DB only; legacy ones also in the rollout, where
        // Codex's later reconcile reads it (spec codex-db-effects §2.3).
        if (meta.history_mode !== 'paginated') {
          await this.appendGitSessionMeta(db, threadId, path, meta, resolvedGit, row);
        }
      } catch (error) {
        throw toThreadStoreError(error, 'failed to set thread git metadata');
      }
    }
    let thread: StoredThread;
    try {
      thread = await this.readThread({ threadId, includeArchived: true });
    } catch {
      thread = await this.readThreadByRolloutPath({ rolloutPath: path, includeArchived: true });
    }
    if (resolvedGit !== undefined) {
      thread.gitInfo =
        resolvedGit.sha === null && resolvedGit.branch === null && resolvedGit.originUrl === null
          ? null
          : {
              commitHash: resolvedGit.sha,
              branch: resolvedGit.branch,
              repositoryUrl: resolvedGit.originUrl,
            };
    }
    return thread;
  }

  /**
   * A legacy thread's git update as a `session_meta` line carrying the merged git. As Codex does,
   * the row's `updated_at` first catches up with the file as it was before this line (a file
   * written since the row was stamped), so the row trails the file by this one write.
   */
  private async appendGitSessionMeta(
    db: StateDb,
    threadId: ThreadId,
    path: string,
    meta: SessionMetaLine,
    resolvedGit: { sha: string | null; branch: string | null; originUrl: string | null },
    row: ThreadMetadata | undefined,
  ): Promise<void> {
    const file = (await resolveRolloutFile(path)) ?? path;
    const before = Math.floor((await stat(file)).mtimeMs);
    if (row !== undefined && before > row.updatedAtMs) {
      await touchThreadUpdatedAt(db.ctx, threadId, before).catch((error: unknown) =>
        this.warn(`failed to stamp thread ${threadId}: ${message(error)}`),
      );
    }
    const gitLine: Record<string, string> = {};
    if (resolvedGit.sha !== null) gitLine.commit_hash = resolvedGit.sha;
    if (resolvedGit.branch !== null) gitLine.branch = resolvedGit.branch;
    if (resolvedGit.originUrl !== null) gitLine.repository_url = resolvedGit.originUrl;
    const payload: SessionMetaLine = { ...meta, git: gitLine };
    if (row?.memoryMode === 'disabled' || row?.memoryMode === 'enabled') {
      payload.memory_mode = row.memoryMode;
    }
    await appendRolloutItemToPath(path, { type: 'session_meta', payload });
  }

  private async ownSessionMeta(
    threadId: ThreadId,
    path: string,
    context: string,
  ): Promise<SessionMetaLine> {
    const file = (await resolveRolloutFile(path)) ?? path;
    const meta = await readFirstSessionMeta(file);
    if (meta === null) {
      throw ThreadStoreError.internal(`${context}: rollout has no session metadata`);
    }
    if (meta.id.toLowerCase() !== threadId) {
      throw ThreadStoreError.internal(
        `${context}: rollout session metadata id mismatch: expected ${threadId}, found ${meta.id}`,
      );
    }
    return meta;
  }

  // -------------------------------------------------------------------------------------------
  // Archive, unarchive, delete

  // -------------------------------------------------------------------------------------------
  // Read receipts (Codex 0.169's thread_read_receipts)

  /** Read states of the given threads; all `initial` where the DB keeps no receipts. */
  async readStates(threadIds: readonly ThreadId[]): Promise<Map<ThreadId, ThreadReadState>> {
    const db = this.handle;
    if (db === undefined) {
      return new Map(threadIds.map((id) => [id, initialReadState(id) as ThreadReadState]));
    }
    try {
      return (await readReadStates(db.ctx, threadIds)) as Map<ThreadId, ThreadReadState>;
    } catch (error) {
      throw ThreadStoreError.internal(`failed to read read states: ${message(error)}`, error);
    }
  }

  async updateReadState(params: UpdateReadStateParams): Promise<ThreadReadState> {
    const db = this.handle;
    if (db === undefined || !hasReadReceipts(db.ctx) || db.readOnlyReason !== null) {
      throw ThreadStoreError.unsupported('read_receipts');
    }
    // The thread must exist (a receipt names a thread row).
    await this.readThread({ threadId: params.threadId, includeArchived: true });
    try {
      return await updateReadState(
        db.ctx,
        params.threadId,
        params.operation,
        params.expectedRevision,
      );
    } catch (error) {
      if (error instanceof StateError && error.code === 'Conflict') {
        throw ThreadStoreError.conflict(error.message);
      }
      throw ThreadStoreError.internal(`failed to update read state: ${message(error)}`, error);
    }
  }

  /**
   * A completed turn, published as 0.169 publishes it (only threads a user reads: no receipt for
   * sub-agents or threads with another thread source). Best effort: a receipt never fails the
   * turn that produced it.
   */
  async publishTurnCompleted(threadId: ThreadId, turnId: string): Promise<void> {
    const db = this.handle;
    if (db === undefined || !hasReadReceipts(db.ctx) || db.readOnlyReason !== null) return;
    try {
      const row = await getThread(db.ctx, threadId);
      if (row === undefined) return;
      if (row.threadSource !== null && row.threadSource !== 'user') return;
      await publishTurnReadReceipt(db.ctx, threadId, turnId);
    } catch (error) {
      this.warn(`failed to publish the read receipt of ${threadId}: ${message(error)}`);
    }
  }

  /** Moves the thread's rollout back under `sessions/` (see unarchive-thread.ts), then reads it. */
  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    const { threadId } = params;
    const restoredPlain = await unarchiveLocalThread(this.fileOpsHost(), params);
    // Codex 0.169 answers the restored thread as a read does: its own recency and (legacy) the
    // rollout view's times, not the moved file's.
    if (this.handle !== undefined && (await this.stateRow(threadId)) !== undefined) {
      return this.readThread({ threadId });
    }
    const thread = await this.storedThreadFromRollout(restoredPlain, false);
    if (thread === undefined) {
      throw ThreadStoreError.internal(`failed to read unarchived thread ${restoredPlain}`);
    }
    const row = await this.stateRow(threadId);
    if (row !== undefined) {
      const rowName = await this.nameForRow(row, thread.preview);
      if (rowName !== null) thread.name = rowName;
      thread.gitInfo = mergeGit(row, thread.gitInfo);
    }
    return thread;
  }

  /** Moves the thread's rollout to `archived_sessions/` (see archive-thread.ts). */
  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    return archiveLocalThread(this.fileOpsHost(), params);
  }

  /** Deletes the thread's files, name entries and rows (see delete-thread.ts). */
  async deleteThread(params: DeleteThreadParams): Promise<void> {
    return deleteLocalThread(this.fileOpsHost(), params);
  }

  /** What the file operations (archive, unarchive, delete) need of the store, without its internals. */
  private fileOpsHost(): LocalFileOpsHost {
    return {
      codexHome: this.codexHome,
      stateDb: this.handle,
      warn: this.warn,
      assertNoOtherWriter: (threadId) => this.assertNoOtherWriter(threadId),
      refuseLinkOutsideHome: (path) => this.refuseLinkOutsideHome(path),
      dropLiveWriter: async (threadId) => {
        const entry = this.writers.get(threadId);
        if (entry === undefined) return null;
        await entry.writer.discard().catch(() => undefined);
        this.writers.delete(threadId);
        await entry.lock?.release();
        return entry.writer.materialized ? entry.writer.path : null;
      },
    };
  }
}

/**
 * A legacy thread as Codex 0.169 reads it without its history: the rollout head's view (its
 * creation time, which also stands for the update time, its first message, versions, source,
 * parent and fork source as the session meta names them), with what only the DB knows laid
 * over it (recency, cwd, name, model, reasoning effort, git, permissions). Null for a
 * paginated thread (its display metadata lives in SQLite) or a head without a message.
 */
function legacyRolloutView(
  merged: StoredThread,
  head: RolloutHeadSummary,
  defaultProvider: string,
): StoredThread | null {
  const meta = head.sessionMeta;
  if (meta === null || meta.history_mode === 'paginated' || merged.historyMode === 'paginated') {
    return null;
  }
  if (head.preview === null || head.preview === '') return null;
  const createdAtMs = parseRfc3339Ms(head.createdAt ?? meta.timestamp) ?? merged.createdAtMs;
  const spawn = threadSpawnOf(meta.source);
  return {
    ...merged,
    preview: head.preview,
    firstUserMessage: head.firstUserMessage,
    createdAtMs,
    updatedAtMs: createdAtMs,
    cwd: merged.cwd !== '' ? merged.cwd : meta.cwd,
    cliVersion: meta.cli_version ?? '',
    originator:
      typeof meta.originator === 'string' && meta.originator !== '' ? meta.originator : null,
    source: meta.source === undefined ? merged.source : (meta.source as SessionSource),
    modelProvider:
      typeof meta.model_provider === 'string' && meta.model_provider !== ''
        ? meta.model_provider
        : defaultProvider,
    // Codex's rollout view of a thread carries no thread source.
    threadSource: null,
    parentThreadId: toThreadIdOrNull(meta.parent_thread_id),
    forkedFromId: toThreadIdOrNull(meta.forked_from_id),
    agentNickname:
      meta.agent_nickname ??
      (typeof spawn?.agent_nickname === 'string' ? spawn.agent_nickname : null),
    agentRole: meta.agent_role ?? meta.agent_type ?? null,
  };
}

function toThreadIdOrNull(value: string | null | undefined): ThreadId | null {
  return typeof value === 'string' && isThreadId(value) ? parseThreadId(value) : null;
}

function mergeGit(
  row: ThreadMetadata,
  fromRollout: StoredThread['gitInfo'],
): StoredThread['gitInfo'] {
  const sha = row.gitSha ?? fromRollout?.commitHash ?? null;
  const branch = row.gitBranch ?? fromRollout?.branch ?? null;
  const origin = row.gitOriginUrl ?? fromRollout?.repositoryUrl ?? null;
  if (sha === null && branch === null && origin === null) return null;
  return { commitHash: sha, branch, repositoryUrl: origin };
}

function historyModeOfItems(items: readonly RolloutItem[]): ThreadHistoryMode {
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index];
    if (item?.type === 'session_meta') {
      return item.payload.history_mode === 'paginated' ? 'paginated' : 'legacy';
    }
  }
  return 'legacy';
}

/** Copies observed facts of a patch onto a row (names, git, memory and recency go elsewhere). */
function applyObservedFacts(next: ThreadMetadata, patch: ThreadMetadataPatch, path: string): void {
  if (path !== '') next.rolloutPath = path;
  if (patch.preview !== undefined) next.preview = patch.preview;
  if (patch.title !== undefined) next.title = patch.title;
  if (patch.modelProvider !== undefined) next.modelProvider = patch.modelProvider;
  if (patch.model !== undefined) next.model = patch.model;
  if (patch.reasoningEffort !== undefined) next.reasoningEffort = patch.reasoningEffort;
  if (patch.createdAtMs !== undefined) next.createdAtMs = patch.createdAtMs;
  if (patch.updatedAtMs !== undefined) next.updatedAtMs = patch.updatedAtMs;
  if (patch.source !== undefined) next.source = encodeSessionSource(patch.source);
  if (patch.threadSource !== undefined) next.threadSource = patch.threadSource;
  if (patch.agentNickname !== undefined) next.agentNickname = patch.agentNickname;
  if (patch.agentRole !== undefined) next.agentRole = patch.agentRole;
  if (patch.agentPath !== undefined) next.agentPath = patch.agentPath;
  if (patch.cwd !== undefined) next.cwd = normalizeThreadCwd(patch.cwd);
  if (patch.cliVersion !== undefined) next.cliVersion = patch.cliVersion;
  if (patch.approvalMode !== undefined) next.approvalMode = patch.approvalMode;
  if (patch.permissionProfile !== undefined) {
    next.sandboxPolicy = JSON.stringify(patch.permissionProfile);
  }
  if (patch.tokenUsage !== undefined) {
    next.tokensUsed = Math.max(0, Math.trunc(patch.tokenUsage.totalTokens));
  }
  if (patch.firstUserMessage !== undefined) next.firstUserMessage = patch.firstUserMessage;
  if (patch.historyMode !== undefined) next.historyMode = patch.historyMode;
  if (patch.gitInfo !== undefined && next.gitSha === null && next.gitBranch === null) {
    // A new row takes observed git facts at insert; explicit resolution happens after.
    next.gitSha = patch.gitInfo.sha ?? null;
    next.gitBranch = patch.gitInfo.branch ?? null;
    next.gitOriginUrl = patch.gitInfo.originUrl ?? null;
  }
}

/** A patch that only stamps `updatedAtMs` (a touch). */
function isTouchOnly(
  patch: ThreadMetadataPatch,
): patch is ThreadMetadataPatch & { updatedAtMs: number } {
  if (patch.updatedAtMs === undefined) return false;
  for (const [key, value] of Object.entries(patch)) {
    if (key !== 'updatedAtMs' && value !== undefined) return false;
  }
  return true;
}

/** Git facts in the rollout's words, leaving out what is unknown. */
function gitLineOf(git: GitInfo): Record<string, string> {
  const line: Record<string, string> = {};
  if (git.commitHash !== null) line.commit_hash = git.commitHash;
  if (git.branch !== null) line.branch = git.branch;
  if (git.repositoryUrl !== null) line.repository_url = git.repositoryUrl;
  return line;
}
