import type { SessionSource, StoredThread, ThreadId, ThreadStore } from '@skein/thread-store';

/**
 * What commands use from the layers below, built once per run by `buildServices` (the only
 * place that knows how the state handle, the store and the manager are made).
 */
export interface Services {
  readonly home: string;
  /** The provider `list` shows by default (config.toml `model_provider`, else `openai`). */
  readonly defaultProvider: string;
  readonly store: ThreadStore;
  /** Whether a state index backs the store (false: files only, after an init failure). */
  readonly indexed: boolean;
  /** Rename through the manager (name index + DB, as `thread/name/set`). */
  setThreadName(
    threadId: ThreadId,
    name: string,
    options?: { includeArchived?: boolean },
  ): Promise<void>;
  /** Cascading operations over the spawn tree; each returns the ids it touched, root first. */
  archiveTree(threadId: ThreadId): Promise<ThreadId[]>;
  unarchiveTree(threadId: ThreadId): Promise<ThreadId[]>;
  deleteTree(threadId: ThreadId): Promise<ThreadId[]>;
  /** The thread and its spawned descendants, root first. */
  subtreeIds(threadId: ThreadId): Promise<ThreadId[]>;
  /** Whether the thread exists anywhere in the home (file or index row). */
  threadExists(threadId: ThreadId): Promise<boolean>;
  /** Ids (active and archived) starting with `prefix`. */
  threadIdsWithPrefix(prefix: string): Promise<ThreadId[]>;
  /** The thread currently carrying `name` (latest rename wins), if any. */
  threadIdByName(name: string): Promise<ThreadId | null>;
  /** Indexes a rollout file that was just written into the home (import). */
  indexRolloutFile(path: string, archived: boolean): Promise<void>;
  readThreadQuiet(threadId: ThreadId): Promise<StoredThread | null>;
  /**
   * How many listable threads match `filter` (`all`), and how many of them also match the
   * narrower sources and providers (`within`), counted together from the state index; absent
   * when the store cannot count (remote stores, a home without an index).
   */
  countThreads?(
    filter: ThreadCountFilter,
    narrower: Pick<ThreadCountFilter, 'sources' | 'providers'>,
  ): Promise<{ all: number; within: number } | null>;
  close(): Promise<void>;
}

/** What `Services.countThreads` filters by (empty `sources` / `providers` = any). */
export interface ThreadCountFilter {
  archived: boolean;
  sources: readonly SessionSource[];
  providers: readonly string[];
  cwds: readonly string[] | null;
  searchTerm: string | null;
}
