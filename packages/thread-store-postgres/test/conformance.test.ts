import {
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import type { ThreadStore } from '@skein/thread-store';
import { describeThreadStoreConformance } from '@skein/thread-store/testing';
import { afterAll, beforeAll } from 'vitest';
import { PostgresThreadStore } from '../src/index.js';
import { MIGRATED_STORE_TEMPLATE } from '../src/testing/index.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describeThreadStoreConformance({
  name: 'PostgresThreadStore',
  capabilities: {
    rolloutPaths: false,
    liveWriters: true,
    requiresCwd: false,
    archive: true,
    listing: true,
    gitMetadata: true,
    turns: true,
    search: true,
    items: true,
  },
  async createHarness() {
    const url = await server.cloneDatabase(MIGRATED_STORE_TEMPLATE);
    const cwd = makeTempDir('skein-pg-cwd-');
    const stores: PostgresThreadStore[] = [
      await PostgresThreadStore.open({ connectionString: url }),
    ];
    return {
      store: stores[0] as ThreadStore,
      cwd,
      async reopen() {
        const store = await PostgresThreadStore.open({ connectionString: url });
        stores.push(store);
        return store;
      },
      async cleanup() {
        for (const store of stores) await store.close();
        removeTempDir(cwd);
      },
    };
  },
});
