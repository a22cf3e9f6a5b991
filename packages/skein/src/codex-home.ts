/**
 * `openCodexHome`: the common case in one call. It builds what an app's main builds — the state
 * handle once and one `LocalThreadStore` over the home (`openHomeStore` of `@skein/thread-stores`:
 * `initStateDb` opens Codex's `state_5.sqlite` where Codex keeps it — the home's `sqlite_home`:
 * config.toml's `sqlite_home`, else `CODEX_SQLITE_HOME`, else the home — and imports the home's
 * rollouts under Codex's backfill lease), and one `ThreadManager` over the store — and hands back
 * threads that speak in messages instead of rollout items.
 *
 * Every append goes through the same `LiveThread` as the low-level API and is flushed (written
 * and fsynced) before its promise resolves, so what it wrote survives a crash and is what Codex
 * reads: the model-visible `response_item` and the display event of the thread's history mode.
 */

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { newThreadId, segmentTurns, type TurnRecord } from '@skein/protocol';
import type { StateDb } from '@skein/state';
import { type LoadedThread, storeAgentGraph, ThreadManager } from '@skein/thread-manager';
import {
  assistantMessageItems,
  type ConversationMessage,
  conversationMessages,
  type LocalThreadStore,
  type RolloutItem,
  type SessionSource,
  type StoredThread,
  type ThreadHistoryMode,
  type ThreadId,
  turnCompleteItem,
  turnStartedItem,
  userMessageItems,
} from '@skein/thread-store';
import { openHomeStore } from '@skein/thread-stores';

/** Options of `openCodexHome`. */
export interface OpenCodexHomeOptions {
  /**
   * Provider recorded on new threads and for rollouts that name none. Codex lists only the
   * threads of its configured provider by default, so use the one your Codex uses. Default
   * `openai`.
   */
  modelProvider?: string;
  /**
   * Source stamped on new threads. Codex's pickers and `thread/list` show interactive sources
   * (`cli`, `vscode`) by default. Default `cli`.
   */
  source?: SessionSource;
  /** `session_meta.originator` of new threads. Default `skein`. */
  originator?: string;
  /**
   * For a home without a Codex DB: the Codex version whose schema it is created with. The
   * default, `0.131.0`, is opened by every known Codex (newer ones migrate it forward) and
   * gives legacy threads; `0.169.0` gives Codex 0.169's paginated history. A home that has a DB
   * keeps it, and new threads take the mode the home's Codex uses.
   */
  codexVersion?: string;
  /** Create the directory when it does not exist. Default true. */
  create?: boolean;
  /** Where warnings of best-effort steps go. Default `console.warn`. */
  warn?: (message: string) => void;
}

/** What `threads.create` takes. */
export interface CreateThreadOptions {
  /** The working directory the thread belongs to (Codex filters and resumes by it). */
  cwd: string;
  /** A name shown instead of the first message (`session_index.jsonl` and the DB, as Codex). */
  name?: string;
  /** The model recorded on the thread. */
  model?: string;
  /** Overrides the home's provider for this thread. */
  modelProvider?: string;
  /** Overrides the home's default (what its Codex writes). */
  historyMode?: ThreadHistoryMode;
}

/** What `threads.list` takes; by default every thread of the home, newest first. */
export interface ListThreadsOptions {
  /** At most this many threads (default 50, at most 10,000). */
  limit?: number;
  /** Only threads started in one of these directories. */
  cwd?: string | readonly string[];
  /** Only threads whose name, title or preview contains this text. */
  search?: string;
  /** List archived threads instead of active ones. */
  archived?: boolean;
  /** Sort key (default `createdAt`), newest first. */
  sortBy?: 'createdAt' | 'updatedAt';
}

/** One thread as a list or a read shows it. */
export interface ThreadSummary {
  id: ThreadId;
  /** The explicit name, if any. */
  name: string | null;
  /** The first user message (or Codex's preview of it); `''` before there is one. */
  preview: string;
  cwd: string;
  historyMode: ThreadHistoryMode;
  modelProvider: string;
  model: string | null;
  source: SessionSource;
  createdAt: Date;
  updatedAt: Date;
  archived: boolean;
  /** The rollout file (the thread's durable history). */
  path: string | null;
}

/** A thread read back: its summary and its conversation. */
export interface ThreadContents extends ThreadSummary {
  messages: ConversationMessage[];
}

/** A thread open for writing. */
export interface CodexThread {
  readonly id: ThreadId;
  readonly historyMode: ThreadHistoryMode;
  /**
   * Appends a user message and opens a turn for it (closing the previous one if it is still
   * open). Resolves once the message is durable.
   */
  appendUserMessage(text: string): Promise<void>;
  /**
   * Appends an assistant message to the open turn (opening one if there is none) and closes
   * the turn. Resolves once the message is durable.
   */
  appendAssistantMessage(text: string): Promise<void>;
  /** Sets (or with null clears) the thread's name, where Codex reads it. */
  setName(name: string | null): Promise<void>;
  /** The thread as stored now, with every message. */
  read(): Promise<ThreadContents>;
  /** Closes an open turn, flushes and releases the writer; later appends fail. */
  close(): Promise<void>;
}

/** The threads of a home. */
export interface CodexThreads {
  /** Starts a thread; its rollout file is written with the first message. */
  create(options: CreateThreadOptions): Promise<CodexThread>;
  /** Reopens an existing thread to append to it. */
  open(id: ThreadId): Promise<CodexThread>;
  /** Reads a thread (open or not) with its messages, archived ones included. */
  read(id: ThreadId): Promise<ThreadContents>;
  list(options?: ListThreadsOptions): Promise<ThreadSummary[]>;
}

/** A Codex home opened for reading and writing threads. */
export interface CodexHome {
  /** The home's absolute path. */
  readonly path: string;
  /** The history mode new threads get here. */
  readonly historyMode: ThreadHistoryMode;
  readonly threads: CodexThreads;
  /** The layers underneath, for what the common case does not cover. */
  readonly manager: ThreadManager;
  readonly store: LocalThreadStore;
  /**
   * The state index; undefined when it could not be opened or filled (the home is then served
   * from its rollout files, and `warn` said why).
   */
  readonly stateDb: StateDb | undefined;
  /** Closes open turns, flushes and closes every thread, then the state DB. */
  close(): Promise<void>;
}

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 10_000;
const LIST_PAGE_SIZE = 100;
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Opens (or creates) a Codex home for reading and writing threads, beside any Codex process
 * using it. Waits until the home's rollouts are indexed (see `initStateDb`).
 */
export async function openCodexHome(
  dir: string,
  options: OpenCodexHomeOptions = {},
): Promise<CodexHome> {
  const path = resolve(dir);
  if (options.create !== false) mkdirSync(path, { recursive: true });
  const modelProvider = options.modelProvider ?? 'openai';
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const opened = await openHomeStore(path, {
    defaultModelProvider: modelProvider,
    waitForIndex: true,
    ...(options.codexVersion !== undefined ? { createSchema: options.codexVersion } : {}),
    warn,
    onIndexUnavailable: (reason) => warn(`${reason}; using the rollout files alone`),
  });
  const { store, stateDb } = opened;
  const manager = new ThreadManager({
    store,
    sessionSource: options.source ?? 'cli',
    originator: options.originator ?? 'skein',
    defaultModelProvider: modelProvider,
    agentGraph: storeAgentGraph(store),
    // Threads stay loaded until closed: the program decides, not an idle timer.
    idleUnloadDelayMs: 0,
  });
  const open = new Set<HomeThread>();

  const readContents = async (id: ThreadId): Promise<ThreadContents> => {
    const stored = await store.readThread({
      threadId: id,
      includeArchived: true,
      includeHistory: true,
    });
    return { ...summaryOf(stored), messages: conversationMessages(stored.history?.items ?? []) };
  };

  const track = (loaded: LoadedThread, turnOpen: string | null): CodexThread => {
    const thread = new HomeThread(loaded, manager, readContents, turnOpen, () =>
      open.delete(thread),
    );
    open.add(thread);
    return thread;
  };

  const threads: CodexThreads = {
    async create(create) {
      const loaded = await manager.startThread({
        cwd: resolve(create.cwd),
        ...(create.model !== undefined ? { model: create.model } : {}),
        ...(create.modelProvider !== undefined ? { modelProvider: create.modelProvider } : {}),
        ...(create.historyMode !== undefined ? { historyMode: create.historyMode } : {}),
      });
      const thread = track(loaded, null);
      if (create.name !== undefined) await thread.setName(create.name);
      return thread;
    },
    async open(id) {
      const resumed = await manager.resumeThread(id);
      return track(resumed.thread, openTurnOf(resumed.history));
    },
    read: readContents,
    async list(list = {}) {
      const limit = list.limit ?? DEFAULT_LIST_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        throw new RangeError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
      }
      const cwds = list.cwd === undefined ? undefined : [list.cwd].flat().map((d) => resolve(d));
      const found: ThreadSummary[] = [];
      let cursor: string | null = null;
      // Bounded: each page brings at least one thread or ends the walk.
      for (let page = 0; page <= Math.ceil(limit / LIST_PAGE_SIZE) + 1; page += 1) {
        const result = await store.listThreads({
          pageSize: Math.min(LIST_PAGE_SIZE, limit - found.length),
          cursor,
          sortKey: list.sortBy ?? 'createdAt',
          sortDirection: 'desc',
          allowedSources: [],
          modelProviders: [],
          archived: list.archived === true,
          ...(cwds !== undefined ? { cwdFilters: cwds } : {}),
          ...(list.search !== undefined ? { searchTerm: list.search } : {}),
        });
        found.push(...result.items.map(summaryOf));
        if (found.length >= limit || result.nextCursor === null || result.nextCursor === cursor) {
          break;
        }
        cursor = result.nextCursor;
      }
      return found.slice(0, limit);
    },
  };

  return {
    path,
    historyMode: store.defaultHistoryMode(),
    threads,
    manager,
    store,
    stateDb,
    async close() {
      try {
        for (const thread of [...open]) await thread.close();
        await manager.shutdownAll(SHUTDOWN_TIMEOUT_MS);
      } finally {
        await opened.close();
      }
    },
  };
}

/**
 * The turn a history leaves open, if any: the explicit turn `segmentTurns` still has in progress
 * at the end (the one `thread/turns/list` shows unfinished), which the writer completes next.
 */
function openTurnOf(items: readonly TurnRecord[]): string | null {
  return segmentTurns(items).turns.find((turn) => turn.status === 'inProgress')?.turnId ?? null;
}

function summaryOf(thread: StoredThread): ThreadSummary {
  return {
    id: thread.threadId,
    name: thread.name,
    preview: thread.preview,
    cwd: thread.cwd,
    historyMode: thread.historyMode,
    modelProvider: thread.modelProvider,
    model: thread.model,
    source: thread.source,
    createdAt: new Date(thread.createdAtMs),
    updatedAt: new Date(thread.updatedAtMs),
    archived:
      thread.archivedAtMs !== null || /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath ?? ''),
    path: thread.rolloutPath,
  };
}

/** A loaded thread that writes messages as turns, each call durable before it resolves. */
class HomeThread implements CodexThread {
  readonly #loaded: LoadedThread;
  readonly #manager: ThreadManager;
  readonly #read: (id: ThreadId) => Promise<ThreadContents>;
  readonly #onClose: () => void;
  /** The open turn and when it started (unix seconds). */
  #turn: { id: string; startedAt: number; lastAssistant: string | null } | null;
  /** Serializes appends so turns never interleave. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    loaded: LoadedThread,
    manager: ThreadManager,
    read: (id: ThreadId) => Promise<ThreadContents>,
    openTurn: string | null,
    onClose: () => void,
  ) {
    this.#loaded = loaded;
    this.#manager = manager;
    this.#read = read;
    this.#onClose = onClose;
    this.#turn =
      openTurn === null
        ? null
        : { id: openTurn, startedAt: Math.floor(Date.now() / 1000), lastAssistant: null };
  }

  get id(): ThreadId {
    return this.#loaded.threadId;
  }

  get historyMode(): ThreadHistoryMode {
    return this.#loaded.historyMode;
  }

  appendUserMessage(text: string): Promise<void> {
    return this.#serialize(async () => {
      this.#assertOpen();
      const atMs = Date.now();
      const items = this.#completeTurn(atMs);
      const turn = this.#startTurn(atMs, items);
      items.push(...userMessageItems(text, this.#place(turn, atMs)));
      await this.#write(items);
    });
  }

  appendAssistantMessage(text: string): Promise<void> {
    return this.#serialize(async () => {
      this.#assertOpen();
      const atMs = Date.now();
      const items: RolloutItem[] = [];
      const turn = this.#turn?.id ?? this.#startTurn(atMs, items);
      items.push(...assistantMessageItems(text, this.#place(turn, atMs)));
      if (this.#turn !== null) this.#turn.lastAssistant = text;
      items.push(...this.#completeTurn(atMs));
      await this.#write(items);
    });
  }

  setName(name: string | null): Promise<void> {
    return this.#serialize(async () => {
      this.#assertOpen();
      if (name === null) {
        await this.#manager.updateThreadMetadata(this.id, { name: null });
      } else {
        await this.#manager.setThreadName(this.id, name);
      }
    });
  }

  read(): Promise<ThreadContents> {
    return this.#serialize(async () => {
      if (!this.#closed) await this.#loaded.flush();
      // Nothing is on disk before the first message: the thread is what was asked for.
      if (!this.#closed && !this.#loaded.materialized) return this.#pristine();
      return this.#read(this.id);
    });
  }

  #pristine(): ThreadContents {
    const loaded = this.#loaded;
    const created = new Date(loaded.createdAtMs);
    return {
      id: loaded.threadId,
      name: loaded.name,
      preview: '',
      cwd: loaded.cwd,
      historyMode: loaded.historyMode,
      modelProvider: loaded.modelProvider,
      model: loaded.model,
      source: loaded.source,
      createdAt: created,
      updatedAt: created,
      archived: false,
      path: loaded.rolloutPath,
      messages: [],
    };
  }

  close(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        const closing = this.#completeTurn(Date.now());
        if (closing.length > 0) await this.#loaded.recordItems(closing);
        await this.#loaded.flush();
      } finally {
        this.#onClose();
        await this.#manager.unloadThread(this.id);
      }
    });
  }

  #serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`thread ${this.id} is closed`);
  }

  #place(turnId: string, atMs: number) {
    return { historyMode: this.historyMode, threadId: this.id, turnId, atMs };
  }

  #startTurn(atMs: number, into: RolloutItem[]): string {
    const id = newThreadId(atMs);
    const startedAt = Math.floor(atMs / 1000);
    this.#turn = { id, startedAt, lastAssistant: null };
    into.push(turnStartedItem(id, startedAt, this.historyMode));
    return id;
  }

  #completeTurn(atMs: number): RolloutItem[] {
    const turn = this.#turn;
    if (turn === null) return [];
    this.#turn = null;
    return [
      turnCompleteItem(turn.id, turn.lastAssistant, Math.floor(atMs / 1000), {
        historyMode: this.historyMode,
        startedAt: turn.startedAt,
      }),
    ];
  }

  async #write(items: readonly RolloutItem[]): Promise<void> {
    this.#assertOpen();
    await this.#loaded.recordItems(items);
    // Durable before the promise resolves: written and fsynced, the thread materialized.
    await this.#loaded.persist();
  }
}
