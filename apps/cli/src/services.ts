import { existsSync } from 'node:fs';
import {
  type BackfillProgress,
  findThreadIdByName,
  initStateDb,
  reconcileRolloutFile,
} from '@skein/rollout';
import { resetBackfill, type StateDb, StateError, StateRuntime, stateDbPath } from '@skein/state';
import { stateAgentGraph, ThreadManager } from '@skein/thread-manager';
import { LocalThreadStore } from '@skein/thread-store';
import { listingAgentGraph } from './agent-graph.js';
import { configuredModelProvider } from './config.js';
import type { Services } from './context.js';
import { walkRolloutFiles } from './disk-lookup.js';
import type { Output } from './output.js';
import type { ProgressReporter } from './progress.js';

export interface BuildServicesOptions {
  progress?: ProgressReporter;
  /** Re-run the backfill over every rollout file (reindex). */
  reindex?: boolean;
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
      await resetBackfill(runtime.ctx);
    } finally {
      await runtime.close();
    }
  }
  const progress = options.progress;
  let started = false;
  let stateDb: StateDb | undefined;
  try {
    stateDb = await initStateDb({
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
    });
  } catch (error) {
    // Codex's policy: a state index that cannot be opened or filled in time is not fatal;
    // everything keeps working from the rollout files.
    if (!(error instanceof StateError)) throw error;
    out.warn(`${error.message}; continuing without the state index (slower, files only)`);
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
  const manager = new ThreadManager({
    store,
    defaultModelProvider: defaultProvider,
    agentGraph: stateDb ? stateAgentGraph(stateDb.ctx) : listingAgentGraph(store),
    idleUnloadDelayMs: 0,
  });

  const services: Services = {
    home,
    defaultProvider,
    store,
    indexed: stateDb !== undefined,
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
      return (await services.readThreadQuiet(threadId)) !== null;
    },
    async readThreadQuiet(threadId) {
      try {
        return await store.readThread({ threadId, includeArchived: true, includeHistory: false });
      } catch {
        return null;
      }
    },
    async threadIdsWithPrefix(prefix) {
      const files = await walkRolloutFiles(home);
      return [
        ...new Set(files.filter((f) => f.threadId.startsWith(prefix)).map((f) => f.threadId)),
      ];
    },
    threadIdByName(name) {
      return findThreadIdByName(home, name, (id) => services.threadExists(id));
    },
    async indexRolloutFile(path, archived) {
      if (stateDb) await reconcileRolloutFile(stateDb, path, { archived, codexHome: home });
    },
    async close() {
      await manager.shutdownAll(5_000).catch(() => undefined);
      await stateDb?.close();
    },
  };
  return services;
}
