import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { LocalThreadStore } from '@skein/thread-store';
import { ThreadManager, type ThreadManagerOptions } from '../src/index.js';
import { type RecordedEvent, recordEvents } from './helpers.js';

export interface LocalHarness {
  home: string;
  cwd: string;
  stateDb: StateDb;
  store: LocalThreadStore;
  manager: ThreadManager;
  events: RecordedEvent[];
  close(): Promise<void>;
}

/** Builds the state handle for a home the way apps do (open, migrate, backfill). */
export async function openStateDb(home: string, createSchema?: string): Promise<StateDb> {
  return initStateDb({
    codexHome: home,
    defaultProvider: 'test-provider',
    ...(createSchema === undefined ? {} : { createSchema }),
  });
}

/** A temp Codex home with a real state DB, a LocalThreadStore and a ThreadManager over it. */
export async function openLocalHarness(
  options: Partial<ThreadManagerOptions> = {},
  /** The Codex schema of the home's new state DB (`0.169.0`: paginated threads). */
  createSchema?: string,
): Promise<LocalHarness> {
  const home = makeTempDir('skein-manager-home-');
  const cwd = makeTempDir('skein-manager-cwd-');
  const stateDb = await openStateDb(home, createSchema);
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: 'test-provider', warn: () => {} },
    stateDb,
  );
  const manager = new ThreadManager({
    store,
    idleUnloadDelayMs: 0,
    defaultModelProvider: 'test-provider',
    ...options,
  });
  const events = recordEvents(manager);
  return {
    home,
    cwd,
    stateDb,
    store,
    manager,
    events,
    async close() {
      await manager.shutdownAll(5_000);
      await stateDb.close();
      removeTempDir(home);
      removeTempDir(cwd);
    },
  };
}

/** Every rollout file under a directory of the home (recursive), as base names. */
export function rolloutFiles(home: string, subdir: 'sessions' | 'archived_sessions'): string[] {
  const root = join(home, subdir);
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.startsWith('rollout-')) found.push(entry.name);
    }
  };
  walk(root);
  return found.sort();
}
