import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as rollout from '@skein/rollout';
import type { StateDb } from '@skein/state';
import { LocalThreadStore } from '@skein/thread-store';
import type { OpenedThreadStore } from '@skein/thread-store-remote';

type InitStateDb = (options: {
  codexHome: string;
  defaultProvider: string;
  onWarning?: (message: string) => void;
}) => Promise<StateDb | undefined>;

/**
 * A Codex home as a store: the state handle built once (`initStateDb`: open, migrate, backfill
 * under its lease) and a `LocalThreadStore` over it. While rollout does not export
 * `initStateDb` yet, the store runs filesystem-only (no handle), as Codex does without SQLite.
 */
export async function openHomeStore(
  codexHome: string,
  defaultProvider: string,
): Promise<Omit<OpenedThreadStore, 'kind'>> {
  const home = resolve(codexHome);
  if (!existsSync(home) || !statSync(home).isDirectory()) {
    throw new Error(`Codex home not found: ${home}`);
  }
  const warn = (message: string) => process.stderr.write(`warning: ${message}\n`);
  const init = (rollout as Record<string, unknown>).initStateDb as InitStateDb | undefined;
  const stateDb = init
    ? await init({ codexHome: home, defaultProvider, onWarning: warn })
    : undefined;
  if (!init) warn('state index unavailable in this build; serving from rollout files only');
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: defaultProvider, warn },
    stateDb,
  );
  return {
    store,
    async close() {
      await store.close();
      await stateDb?.close();
    },
  };
}
