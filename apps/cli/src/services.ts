import { existsSync } from 'node:fs';
import { encodeSessionSource } from '@skein/protocol';
import {
  type BackfillProgress,
  findThreadIdByName,
  initStateDb,
  reconcileRolloutFile,
  startStateDb,
} from '@skein/rollout';
import {
  containsText,
  resetBackfill,
  type StateDb,
  StateError,
  StateRuntime,
  stateDbPath,
} from '@skein/state';
import {
  type AgentGraph,
  stateAgentGraph,
  storeAgentGraph,
  ThreadManager,
} from '@skein/thread-manager';
import {
  LocalThreadStore,
  type StoredThread,
  type ThreadId,
  type ThreadStore,
} from '@skein/thread-store';
import { describeAccessError } from './access-errors.js';
import { configuredModelProvider } from './config.js';
import type { Services, ThreadCountFilter } from './context.js';
import { walkRolloutFiles } from './disk-lookup.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';
import type { ProgressReporter } from './progress.js';

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
 * The main-like wiring: the state handle once (`initStateDb`: open, migrate, backfill under
 * the lease, verify), one LocalThreadStore over it, one ThreadManager over the store.
 */
export async function buildServices(
  home: string,
  out: Output,
  options: BuildServicesOptions = {},
): Promise<Services> {
  const defaultProvider = configuredModelProvider(home);
  if (options.reindex && existsSync(stateDbPath(home))) {
    const runtime = await StateRuntime.open({ sqliteHome: home, defaultProvider });
    try {
      await resetBackfill(runtime);
    } finally {
      await runtime.close();
    }
  }
  const progress = options.progress;
  let started = false;
  let stateDb: StateDb | undefined;
  const init = {
    codexHome: home,
    defaultProvider,
    onProgress: (p: BackfillProgress) => {
      if (!progress) return;
      if (!started) {
        progress.start(p.filesTotal, p.bytesTotal);
        started = true;
      }
      progress.update(p.filesDone, p.bytesDone);
    },
  };
  try {
    if (options.waitForIndex) {
      stateDb = await initStateDb(init);
    } else {
      // Never make a command wait on another process's import: answer from the files.
      const opened = await startStateDb(init);
      stateDb = opened.stateDb;
      if (stateDb === undefined && opened.reason !== null) {
        const access = describeAccessError(opened.error, [stateDbPath(home), home]);
        out.warn(
          access === null
            ? `${opened.reason}; answering from the rollout files meanwhile (slower)`
            : `${access}; continuing without the state index (slower, files only)`,
        );
      }
    }
  } catch (error) {
    // Codex's policy: a state index that cannot be opened or filled in time is not fatal;
    // everything keeps working from the rollout files.
    if (!(error instanceof StateError)) throw error;
    const access = describeAccessError(error, [stateDbPath(home), home]);
    out.warn(`${access ?? error.message}; continuing without the state index (slower, files only)`);
  } finally {
    if (started) progress?.stop();
  }
  const store = new LocalThreadStore(
    {
      codexHome: home,
      defaultModelProvider: defaultProvider,
      warn: (message) => out.warn(message),
    },
    stateDb,
  );
  return assembleServices({
    home,
    defaultProvider,
    store,
    indexed: stateDb !== undefined,
    agentGraph: stateDb ? stateAgentGraph(stateDb.ctx) : storeAgentGraph(store),
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
      ? { countThreads: (filter) => countIndexedThreads(stateDb, defaultProvider, filter) }
      : {}),
    async close() {
      await stateDb?.close();
    },
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
const UNREADABLE_ROLLOUT =
  /failed to read thread \S+: rollout at .* (is empty|does not start with session metadata)|outside the home .*; links out of the home are never followed/;

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
        return UNREADABLE_ROLLOUT.test((error as Error).message);
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
  const { openThreadStore } = await import('@skein/thread-store-remote');
  const configHome = homeFlag ?? process.env.CODEX_HOME;
  const defaultProvider = configHome ? configuredModelProvider(configHome) : 'openai';
  let opened: Awaited<ReturnType<typeof openThreadStore>>;
  try {
    opened = await openThreadStore(spec);
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
 * Counts listable threads (those with a preview, as lists show) in the state index with the
 * listing's filters: what `list` needs to say how many threads its default filters hide,
 * without reading every row. A row without a provider counts as the default provider's.
 */
async function countIndexedThreads(
  stateDb: StateDb,
  defaultProvider: string,
  filter: ThreadCountFilter,
): Promise<number | null> {
  const { db, dialect, profile } = stateDb.ctx;
  let query = db
    .selectFrom('threads')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('archived', '=', filter.archived ? 1 : 0)
    .where('preview', '<>', '');
  if (filter.sources.length > 0) {
    query = query.where(
      'source',
      'in',
      filter.sources.map((source) => encodeSessionSource(source)),
    );
  }
  if (filter.providers.length > 0) {
    const providers = [...filter.providers];
    query = query.where((eb) =>
      providers.includes(defaultProvider)
        ? eb.or([eb('model_provider', 'in', providers), eb('model_provider', '=', '')])
        : eb('model_provider', 'in', providers),
    );
  }
  if (filter.cwds !== null) {
    if (filter.cwds.length === 0) return 0;
    query = query.where('cwd', 'in', [...filter.cwds]);
  }
  const term = filter.searchTerm;
  if (term) {
    const columns = (['name', 'title'] as const).filter((column) => profile.columns.has(column));
    query = query.where((eb) =>
      eb.or(columns.map((column) => containsText(dialect, eb.ref(column), term))),
    );
  }
  try {
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  } catch {
    return null;
  }
}
