import { encodeSessionSource } from '@skein/protocol';
import { type BackfillProgress, findThreadIdByName, reconcileRolloutFile } from '@skein/rollout';
import { countListableThreadsWithin, type StateDb, stateDbPath } from '@skein/state';
import { type AgentGraph, storeAgentGraph, ThreadManager } from '@skein/thread-manager';
import {
  type SessionSource,
  type StoredThread,
  type ThreadId,
  type ThreadStore,
  unreadableRolloutOf,
} from '@skein/thread-store';
import { type OpenedHomeStore, openHomeStore } from '@skein/thread-stores';
import { describeAccessError } from './access-errors.js';
import { configuredModelProvider } from './config.js';
import { walkRolloutFiles } from './disk-lookup.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';
import type { ProgressReporter } from './progress.js';
import type { Services, ThreadCountFilter } from './services-contract.js';

export interface BuildServicesOptions {
  progress?: ProgressReporter;
  /** Re-run the backfill over every rollout file (reindex). */
  reindex?: boolean;
  /**
   * Wait (up to 30 s) for another process's backfill instead of answering from the files at
   * once: for `backfill` and `reindex`, whose whole point is the index.
   */
  waitForIndex?: boolean;
}

/**
 * The main-like wiring: the home's store once (`openHomeStore`: the state handle built once, a
 * LocalThreadStore over it, the files alone when the index is unavailable), one ThreadManager
 * over the store. `location` is the resolved home: its path and where its DBs are.
 */
export async function buildServices(
  location: { path: string; sqliteHome: string; defaultProvider?: string },
  out: Output,
  options: BuildServicesOptions = {},
): Promise<Services> {
  const { path: home, sqliteHome } = location;
  const defaultProvider = location.defaultProvider ?? configuredModelProvider(home);
  const progress = options.progress;
  let started = false;
  let opened: OpenedHomeStore;
  try {
    opened = await openHomeStore(home, {
      defaultModelProvider: defaultProvider,
      sqliteHome,
      create: true,
      // By default never make a command wait on another process's import: answer from the files.
      waitForIndex: options.waitForIndex ?? false,
      reindex: options.reindex ?? false,
      onProgress: (p: BackfillProgress) => {
        if (!progress) return;
        if (!started) {
          progress.start(p.filesTotal, p.bytesTotal);
          started = true;
        }
        progress.update(p.filesDone, p.bytesDone);
      },
      warn: (message) => out.warn(message),
      // Codex's policy: a state index that cannot be opened or filled in time is not fatal;
      // everything keeps working from the rollout files.
      onIndexUnavailable: (reason, error) => {
        const access = describeAccessError(error, [stateDbPath(sqliteHome), sqliteHome, home]);
        if (options.waitForIndex) {
          out.warn(`${access ?? reason}; continuing without the state index (slower, files only)`);
        } else {
          out.warn(
            access === null
              ? `${reason}; answering from the rollout files meanwhile (slower)`
              : `${access}; continuing without the state index (slower, files only)`,
          );
        }
      },
    });
  } finally {
    if (started) progress?.stop();
  }
  const { store, stateDb } = opened;
  return assembleServices({
    home,
    defaultProvider,
    store,
    indexed: stateDb !== undefined,
    agentGraph: storeAgentGraph(store),
    async threadIdsWithPrefix(prefix) {
      const files = await walkRolloutFiles(home);
      return [
        ...new Set(files.filter((f) => f.threadId.startsWith(prefix)).map((f) => f.threadId)),
      ];
    },
    threadIdByName(name, exists) {
      return findThreadIdByName(home, name, exists);
    },
    async indexRolloutFile(path, archived) {
      if (stateDb) await reconcileRolloutFile(stateDb, path, { archived, codexHome: home });
    },
    ...(stateDb
      ? {
          countThreads: (filter, narrower) =>
            countIndexedThreads(stateDb, defaultProvider, filter, narrower),
        }
      : {}),
    close: () => opened.close(),
  });
}

/** How the commands' lookups work over one kind of store. */
interface StoreParts {
  home: string;
  defaultProvider: string;
  store: ThreadStore;
  indexed: boolean;
  agentGraph: AgentGraph;
  threadIdsWithPrefix(prefix: string): Promise<ThreadId[]>;
  threadIdByName(
    name: string,
    exists: (id: ThreadId) => Promise<boolean>,
  ): Promise<ThreadId | null>;
  indexRolloutFile(path: string, archived: boolean): Promise<void>;
  countThreads?: Services['countThreads'];
  /** Releases what opening the store acquired. */
  close(): Promise<void>;
}

/**
 * The store's errors for a rollout that exists but cannot be read (emptied, no session_meta)
 * or is never followed (a link out of the home).
 */
/** A rollout refused because it is a link out of the home (the thread exists). */
const LINK_OUT_OF_HOME = /outside the home .*; links out of the home are never followed/;

/** One ThreadManager over the store; metadata mutations and cascades go through it. */
function assembleServices(parts: StoreParts): Services {
  const { store } = parts;
  const manager = new ThreadManager({
    store,
    defaultModelProvider: parts.defaultProvider,
    agentGraph: parts.agentGraph,
    idleUnloadDelayMs: 0,
  });
  const services: Services = {
    home: parts.home,
    defaultProvider: parts.defaultProvider,
    store,
    indexed: parts.indexed,
    async setThreadName(threadId, name, opts = {}) {
      if (opts.includeArchived) {
        await manager.updateThreadMetadata(
          threadId,
          { name: name.trim() },
          { includeArchived: true },
        );
      } else {
        await manager.setThreadName(threadId, name);
      }
    },
    async archiveTree(threadId) {
      return (await manager.archiveThread(threadId)).archivedThreadIds;
    },
    async unarchiveTree(threadId) {
      return (await manager.unarchiveThread(threadId)).unarchivedThreadIds;
    },
    async deleteTree(threadId) {
      return (await manager.deleteThread(threadId)).deletedThreadIds;
    },
    subtreeIds(threadId) {
      return manager.listAgentSubtreeThreadIds(threadId);
    },
    async threadExists(threadId) {
      try {
        await store.readThread({ threadId, includeArchived: true, includeHistory: false });
        return true;
      } catch (error) {
        // A thread whose rollout cannot be read, or is refused (a link out of the home), still
        // exists: the command then says why it fails.
        return (
          unreadableRolloutOf(error) !== null || LINK_OUT_OF_HOME.test((error as Error).message)
        );
      }
    },
    async readThreadQuiet(threadId) {
      try {
        return await store.readThread({ threadId, includeArchived: true, includeHistory: false });
      } catch {
        return null;
      }
    },
    threadIdsWithPrefix: (prefix) => parts.threadIdsWithPrefix(prefix),
    threadIdByName: (name) => parts.threadIdByName(name, (id) => services.threadExists(id)),
    indexRolloutFile: (path, archived) => parts.indexRolloutFile(path, archived),
    ...(parts.countThreads ? { countThreads: parts.countThreads } : {}),
    async close() {
      await manager.shutdownAll(5_000).catch(() => undefined);
      await parts.close();
    },
  };
  return services;
}

const REMOTE_PAGE_SIZE = 100;
/** Bound on the listing walk behind id-prefix and name lookups on a remote store. */
const REMOTE_MAX_PAGES = 1_000;

/** Every thread of a remote store (active and archived, any source or provider), bounded. */
async function* everyStoredThread(store: ThreadStore): AsyncGenerator<StoredThread> {
  for (const archived of [false, true]) {
    let cursor: string | null = null;
    for (let page = 0; page < REMOTE_MAX_PAGES; page += 1) {
      const result = await store.listThreads({
        pageSize: REMOTE_PAGE_SIZE,
        cursor,
        archived,
        sortKey: 'updatedAt',
        sortDirection: 'desc',
        modelProviders: [],
        allowedSources: [],
      });
      yield* result.items;
      if (result.nextCursor === null || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
  }
}

/**
 * The wiring for `--store postgres://…` or `grpc://HOST:PORT`: the store once (through
 * `openThreadStore`), one ThreadManager over it. No home files are read: ids, prefixes and
 * names are looked up through the store's own listing. `homeFlag` only supplies the default
 * model provider (config.toml of the home named, if any).
 */
export async function buildStoreServices(
  spec: string,
  homeFlag: string | undefined,
): Promise<Services> {
  const { openThreadStore } = await import('@skein/thread-stores');
  const configHome = homeFlag ?? process.env.CODEX_HOME;
  const defaultProvider = configHome ? configuredModelProvider(configHome) : 'openai';
  let opened: Awaited<ReturnType<typeof openThreadStore>>;
  try {
    opened = await openThreadStore(spec, {
      home: { defaultModelProvider: defaultProvider },
    });
  } catch (error) {
    throw CliError.failure(`cannot open the store ${spec}: ${(error as Error).message}`, error);
  }
  const store = opened.store;
  return assembleServices({
    home: '',
    defaultProvider,
    store,
    indexed: true,
    agentGraph: storeAgentGraph(store),
    async threadIdsWithPrefix(prefix) {
      const ids = new Set<ThreadId>();
      for await (const thread of everyStoredThread(store)) {
        if (thread.threadId.startsWith(prefix)) ids.add(thread.threadId);
      }
      return [...ids];
    },
    async threadIdByName(name) {
      // Newest update first, so the thread that carries the name now wins.
      for await (const thread of everyStoredThread(store)) {
        if (thread.name === name) return thread.threadId;
      }
      return null;
    },
    async indexRolloutFile() {
      throw CliError.usage('a remote store has no rollout files to index');
    },
    close: () => opened.close(),
  });
}

/**
 * Counts listable threads in the state index with the listing's filters, and those a narrower
 * listing keeps (the state package's query, one scan): what `list` needs to say how many threads
 * its default filters hide. Null when the index cannot answer.
 */
async function countIndexedThreads(
  stateDb: StateDb,
  defaultProvider: string,
  filter: ThreadCountFilter,
  narrower: Pick<ThreadCountFilter, 'sources' | 'providers'>,
): Promise<{ all: number; within: number } | null> {
  const encoded = (sources: readonly SessionSource[]) =>
    sources.map((source) => encodeSessionSource(source));
  try {
    return await countListableThreadsWithin(
      stateDb.ctx,
      {
        archived: filter.archived,
        sources: encoded(filter.sources),
        providers: filter.providers,
        defaultProvider,
        cwds: filter.cwds,
        searchTerm: filter.searchTerm ?? null,
      },
      { sources: encoded(narrower.sources), providers: narrower.providers },
    );
  } catch {
    return null;
  }
}
