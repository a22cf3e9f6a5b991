/**
 * `InMemoryThreadStore` (spec thread-store §5): a test and debug double that keeps history and
 * metadata patches in memory and records every call. It has no rollout files, so reads by
 * rollout path fail unless a path was registered by `resumeThread`.
 */
import { rejectPaginatedHistoryMode, ThreadStoreError } from './errors.js';
import { persistedRolloutItems } from './items.js';
import {
  assertThreadMetadataPatchBounds,
  gitInfoFromParts,
  isThreadMetadataPatchEmpty,
  mergeThreadMetadataPatch,
} from './patch.js';
import { sessionMetaForCreate, spawnFactsOf } from './session-meta.js';
import { ThreadStoreBase } from './thread-store.js';
import type {
  AppendThreadItemsParams,
  ArchiveThreadParams,
  CreateThreadParams,
  DeleteThreadParams,
  ListThreadsParams,
  LoadThreadHistoryParams,
  ReadThreadByRolloutPathParams,
  ReadThreadParams,
  ResumeThreadParams,
  RolloutItem,
  StoredThread,
  StoredThreadHistory,
  ThreadHistoryMode,
  ThreadId,
  ThreadMetadataPatch,
  ThreadPage,
  UpdateThreadMetadataParams,
} from './types.js';

/** Per-method call counters. */
export interface InMemoryThreadStoreCalls {
  createThread: number;
  resumeThread: number;
  appendItems: number;
  persistThread: number;
  flushThread: number;
  shutdownThread: number;
  discardThread: number;
  loadHistory: number;
  readThread: number;
  readThreadWithHistory: number;
  readThreadByRolloutPath: number;
  listThreads: number;
  updateThreadMetadata: number;
  archiveThread: number;
  unarchiveThread: number;
  deleteThread: number;
}

/** One recorded call: the method and a structured clone of its argument. */
export interface InMemoryThreadStoreCall {
  method: keyof InMemoryThreadStoreCalls;
  params: unknown;
}

function zeroCalls(): InMemoryThreadStoreCalls {
  return {
    createThread: 0,
    resumeThread: 0,
    appendItems: 0,
    persistThread: 0,
    flushThread: 0,
    shutdownThread: 0,
    discardThread: 0,
    loadHistory: 0,
    readThread: 0,
    readThreadWithHistory: 0,
    readThreadByRolloutPath: 0,
    listThreads: 0,
    updateThreadMetadata: 0,
    archiveThread: 0,
    unarchiveThread: 0,
    deleteThread: 0,
  };
}

const registry = new Map<string, InMemoryThreadStore>();

/**
 * A `ThreadStore` in memory, for tests and demos: the full contract (conformance suite) without
 * files, plus call counters (`calls()`) and a call log. It has no paths: reads by rollout path
 * fail.
 */
export class InMemoryThreadStore extends ThreadStoreBase {
  /** The process-wide store registered under `id`, created on first use. */
  static forId(id: string): InMemoryThreadStore {
    let store = registry.get(id);
    if (store === undefined) {
      store = new InMemoryThreadStore();
      registry.set(id, store);
    }
    return store;
  }

  /** Removes and returns the store registered under `id`. */
  static removeId(id: string): InMemoryThreadStore | undefined {
    const store = registry.get(id);
    registry.delete(id);
    return store;
  }

  private readonly counters = zeroCalls();
  private readonly log: InMemoryThreadStoreCall[] = [];
  readonly createdThreads = new Map<ThreadId, CreateThreadParams>();
  readonly histories = new Map<ThreadId, RolloutItem[]>();
  readonly metadataUpdates = new Map<ThreadId, ThreadMetadataPatch>();
  readonly names = new Map<ThreadId, string | null>();
  readonly rolloutPaths = new Map<string, ThreadId>();
  private readonly firstSeenAtMs = new Map<ThreadId, number>();

  /** A snapshot of the call counters. */
  calls(): InMemoryThreadStoreCalls {
    return { ...this.counters };
  }

  /** Every call so far, in order (a spy for tests). */
  callLog(): readonly InMemoryThreadStoreCall[] {
    return [...this.log];
  }

  private count(method: keyof InMemoryThreadStoreCalls, params: unknown): void {
    this.counters[method] += 1;
    this.log.push({ method, params: structuredClone(params) });
  }

  async createThread(params: CreateThreadParams): Promise<void> {
    rejectPaginatedHistoryMode(params.historyMode);
    this.count('createThread', params);
    this.histories.set(params.threadId, [synthesizedSessionMeta(params)]);
    this.createdThreads.set(params.threadId, structuredClone(params));
    this.touchFirstSeen(params.threadId);
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    this.count('resumeThread', params);
    const mode =
      params.history != null
        ? historyModeOf(params.history)
        : (this.metadataUpdates.get(params.threadId)?.historyMode ??
          this.createdThreads.get(params.threadId)?.historyMode ??
          'legacy');
    rejectPaginatedHistoryMode(mode);
    if (params.history != null) {
      this.histories.set(params.threadId, structuredClone([...params.history]));
    } else if (!this.histories.has(params.threadId)) {
      this.histories.set(params.threadId, []);
    }
    if (params.rolloutPath != null) this.rolloutPaths.set(params.rolloutPath, params.threadId);
    this.touchFirstSeen(params.threadId);
  }

  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    const canonical = persistedRolloutItems(params.items);
    if (canonical.length === 0) return;
    this.count('appendItems', params);
    let history = this.histories.get(params.threadId);
    if (history === undefined) {
      history = [];
      this.histories.set(params.threadId, history);
    }
    history.push(...structuredClone(canonical));
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    this.count('persistThread', threadId);
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    this.count('flushThread', threadId);
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    this.count('shutdownThread', threadId);
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    this.count('discardThread', threadId);
  }

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    this.count('loadHistory', params);
    const items = this.histories.get(params.threadId);
    if (items === undefined) throw ThreadStoreError.threadNotFound(params.threadId);
    rejectPaginatedHistoryMode(this.historyModeFor(params.threadId));
    return { threadId: params.threadId, items: structuredClone(items) };
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    this.count('readThread', params);
    if (params.includeHistory === true) {
      this.counters.readThreadWithHistory += 1;
      if (this.knows(params.threadId)) {
        rejectPaginatedHistoryMode(this.historyModeFor(params.threadId));
      }
    }
    return this.storedThread(params.threadId, params.includeHistory === true);
  }

  async readThreadByRolloutPath(params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    this.count('readThreadByRolloutPath', params);
    const threadId = this.rolloutPaths.get(params.rolloutPath);
    if (threadId === undefined) {
      throw ThreadStoreError.invalidRequest(
        `in-memory thread store does not know rollout path ${params.rolloutPath}`,
      );
    }
    if (params.includeHistory === true) rejectPaginatedHistoryMode(this.historyModeFor(threadId));
    return this.storedThread(threadId, params.includeHistory === true);
  }

  /** Every created thread sorted by id; only the relation filter is honoured, never paged. */
  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    this.count('listThreads', params);
    let ids = [...this.createdThreads.keys()].sort();
    const relation = params.relationFilter;
    if (relation != null) {
      const parentOf = (id: ThreadId): ThreadId | null => {
        const created = this.createdThreads.get(id);
        return created === undefined ? null : spawnFactsOf(created).parentThreadId;
      };
      if (relation.kind === 'directChildrenOf') {
        ids = ids.filter((id) => parentOf(id) === relation.threadId);
      } else {
        ids = ids.filter((id) => {
          const seen = new Set<ThreadId>();
          for (let parent = parentOf(id); parent !== null; parent = parentOf(parent)) {
            if (parent === relation.threadId) return true;
            if (seen.has(parent)) return false;
            seen.add(parent);
          }
          return false;
        });
      }
    }
    return { items: ids.map((id) => this.storedThread(id, false)), nextCursor: null };
  }

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    assertThreadMetadataPatchBounds(params.patch);
    this.count('updateThreadMetadata', params);
    if (!this.knows(params.threadId)) throw ThreadStoreError.threadNotFound(params.threadId);
    const { patch } = params;
    if (patch.name !== undefined) this.names.set(params.threadId, patch.name);
    if (!isThreadMetadataPatchEmpty(patch)) {
      const current = this.metadataUpdates.get(params.threadId) ?? {};
      this.metadataUpdates.set(params.threadId, mergeThreadMetadataPatch(current, patch));
    }
    return this.storedThread(params.threadId, false);
  }

  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    this.count('archiveThread', params);
  }

  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    this.count('unarchiveThread', params);
    return this.storedThread(params.threadId, false);
  }

  async deleteThread(params: DeleteThreadParams): Promise<void> {
    this.count('deleteThread', params);
    const existed = this.histories.delete(params.threadId);
    this.createdThreads.delete(params.threadId);
    this.metadataUpdates.delete(params.threadId);
    this.names.delete(params.threadId);
    this.firstSeenAtMs.delete(params.threadId);
    for (const [path, id] of this.rolloutPaths) {
      if (id === params.threadId) this.rolloutPaths.delete(path);
    }
    if (!existed) throw ThreadStoreError.threadNotFound(params.threadId);
  }

  private knows(threadId: ThreadId): boolean {
    return this.createdThreads.has(threadId) || this.histories.has(threadId);
  }

  private touchFirstSeen(threadId: ThreadId): void {
    if (!this.firstSeenAtMs.has(threadId)) this.firstSeenAtMs.set(threadId, Date.now());
  }

  private historyModeFor(threadId: ThreadId): ThreadHistoryMode {
    return (
      this.metadataUpdates.get(threadId)?.historyMode ??
      this.createdThreads.get(threadId)?.historyMode ??
      historyModeOf(this.histories.get(threadId) ?? [])
    );
  }

  private storedThread(threadId: ThreadId, includeHistory: boolean): StoredThread {
    if (!this.knows(threadId)) throw ThreadStoreError.threadNotFound(threadId);
    const created = this.createdThreads.get(threadId);
    const patch = this.metadataUpdates.get(threadId) ?? {};
    let registeredPath: string | null = null;
    for (const [path, id] of this.rolloutPaths) if (id === threadId) registeredPath = path;
    const fallbackTime = this.firstSeenAtMs.get(threadId) ?? Date.now();
    const updatedAtMs = patch.updatedAtMs ?? fallbackTime;
    const git = patch.gitInfo;
    const history = this.histories.get(threadId) ?? [];
    return {
      threadId,
      extraConfig: created?.extraConfig ?? null,
      rolloutPath: patch.rolloutPath ?? registeredPath,
      forkedFromId: created?.forkedFromId ?? null,
      parentThreadId: created?.parentThreadId ?? null,
      preview: patch.preview ?? '',
      name: this.names.get(threadId) ?? null,
      modelProvider: patch.modelProvider ?? 'test',
      model: patch.model ?? null,
      reasoningEffort: patch.reasoningEffort ?? null,
      createdAtMs: patch.createdAtMs ?? fallbackTime,
      updatedAtMs,
      recencyAtMs: patch.advanceRecencyAtMs ?? updatedAtMs,
      archivedAtMs: null,
      cwd: patch.cwd ?? '',
      cliVersion: patch.cliVersion ?? 'test',
      source: patch.source ?? created?.source ?? 'unknown',
      historyMode: patch.historyMode ?? created?.historyMode ?? 'legacy',
      threadSource:
        patch.threadSource !== undefined ? patch.threadSource : (created?.threadSource ?? null),
      agentNickname: patch.agentNickname ?? null,
      agentRole: patch.agentRole ?? null,
      agentPath: patch.agentPath ?? null,
      gitInfo: git === undefined ? null : gitInfoFromParts(git.sha, git.branch, git.originUrl),
      approvalMode: patch.approvalMode ?? 'never',
      permissionProfile: patch.permissionProfile ?? { type: 'read-only' },
      tokenUsage: patch.tokenUsage ?? null,
      firstUserMessage: patch.firstUserMessage ?? null,
      originator: created?.originator ?? null,
      history: includeHistory ? { threadId, items: structuredClone(history) } : null,
    };
  }
}

/** The history mode of the last session meta in a history, else legacy. */
export function historyModeOf(items: readonly RolloutItem[]): ThreadHistoryMode {
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index];
    if (item?.type !== 'session_meta') continue;
    return item.payload.history_mode === 'paginated' ? 'paginated' : 'legacy';
  }
  return 'legacy';
}

function synthesizedSessionMeta(params: CreateThreadParams): RolloutItem {
  const payload = sessionMetaForCreate(params, {
    timestamp: new Date(params.createdAtMs ?? Date.now()).toISOString(),
    cwd: params.metadata.cwd ?? '',
    cliVersion: 'test',
  });
  return { type: 'session_meta', payload };
}
