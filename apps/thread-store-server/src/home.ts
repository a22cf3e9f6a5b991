import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { initStateDb } from '@skein/rollout';
import { LocalThreadStore } from '@skein/thread-store';
import type { OpenedThreadStore } from '@skein/thread-store-remote';

/**
 * A Codex home as a store: the state handle built once (`initStateDb`: open, migrate, backfill
 * under its lease) and a `LocalThreadStore` over it.
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
  const stateDb = await initStateDb({ codexHome: home, defaultProvider });
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: defaultProvider, warn },
    stateDb,
  );
  return {
    store,
    async close() {
      await store.close();
      await stateDb.close();
    },
  };
}
