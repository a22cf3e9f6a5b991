import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { LocalThreadStore } from '../src/index.js';
import type { ThreadStoreHarness } from '../src/testing/index.js';

export const noGit = { collectGitInfo: async () => null };

/** Builds the state handle the way apps do: `initStateDb` (open, migrate, backfill). */
export async function openStateDb(codexHome: string, createSchema?: CodexSchema): Promise<StateDb> {
  return initStateDb({
    codexHome,
    defaultProvider: 'test-provider',
    ...(createSchema ? { createSchema } : {}),
  });
}

/** The Codex schema a fresh test home's state DB gets. */
export type CodexSchema = '0.131.0' | '0.169.0';

export async function localHarness(
  withDb: boolean,
  schema?: CodexSchema,
): Promise<
  ThreadStoreHarness & {
    home: string;
    stateDb: StateDb | undefined;
  }
> {
  const root = makeTempDir('skein-local-store-');
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const stateDb = withDb ? await openStateDb(home, schema) : undefined;
  const config = { codexHome: home, defaultModelProvider: 'test-provider', ...noGit };
  const store = new LocalThreadStore(config, stateDb);
  const reopened: LocalThreadStore[] = [];
  return {
    store,
    cwd,
    home,
    stateDb,
    reopen: () => {
      const next = new LocalThreadStore(config, stateDb);
      reopened.push(next);
      return next;
    },
    cleanup: async () => {
      await store.close();
      for (const next of reopened) await next.close();
      await stateDb?.close();
      removeTempDir(root);
    },
  };
}
