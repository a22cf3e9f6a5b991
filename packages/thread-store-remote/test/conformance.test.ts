import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StateRuntime } from '@skein/state';
import {
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import { InMemoryThreadStore, LocalThreadStore, type ThreadStore } from '@skein/thread-store';
import {
  describeThreadStoreConformance,
  type ThreadStoreCapabilities,
} from '@skein/thread-store/testing';
import { PostgresThreadStore } from '@skein/thread-store-postgres';
import { MIGRATED_STORE_TEMPLATE } from '@skein/thread-store-postgres/testing';
import { afterAll, beforeAll } from 'vitest';
import { RemoteThreadStore, serveThreadStore, type ThreadStoreServer } from '../src/index.js';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

/** Serves `backing` on a free loopback port and returns a client for it. */
async function remoteOver(backing: ThreadStore) {
  const server: ThreadStoreServer = await serveThreadStore(backing, '127.0.0.1:0');
  const client = new RemoteThreadStore(`grpc://${server.address}`);
  return { server, client };
}

const pgCapabilities: ThreadStoreCapabilities = {
  rolloutPaths: false,
  liveWriters: true,
  requiresCwd: false,
  archive: true,
  listing: true,
  gitMetadata: true,
  turns: true,
  search: true,
  items: true,
};

describeThreadStoreConformance({
  name: 'RemoteThreadStore → PostgresThreadStore',
  capabilities: pgCapabilities,
  async createHarness() {
    const url = await postgres.cloneDatabase(MIGRATED_STORE_TEMPLATE);
    const cwd = makeTempDir('skein-remote-cwd-');
    const backing = await PostgresThreadStore.open({ connectionString: url });
    const { server, client } = await remoteOver(backing);
    const extra: Array<{
      server: ThreadStoreServer;
      client: RemoteThreadStore;
      backing: PostgresThreadStore;
    }> = [];
    return {
      store: client,
      cwd,
      // A restart: a new server process-equivalent (new store, new server) on the same database.
      async reopen() {
        const again = await PostgresThreadStore.open({ connectionString: url });
        const remote = await remoteOver(again);
        extra.push({ ...remote, backing: again });
        return remote.client;
      },
      async cleanup() {
        for (const entry of [{ server, client, backing }, ...extra]) {
          entry.client.close();
          await entry.server.close();
          await entry.backing.close();
        }
        removeTempDir(cwd);
      },
    };
  },
});

describeThreadStoreConformance({
  name: 'RemoteThreadStore → InMemoryThreadStore',
  capabilities: {
    rolloutPaths: false,
    liveWriters: false,
    requiresCwd: false,
    archive: false,
    listing: false,
    gitMetadata: true,
    turns: false,
    search: false,
  },
  async createHarness() {
    const cwd = makeTempDir('skein-remote-cwd-');
    const { server, client } = await remoteOver(new InMemoryThreadStore());
    return {
      store: client,
      cwd,
      async cleanup() {
        client.close();
        await server.close();
        removeTempDir(cwd);
      },
    };
  },
});

describeThreadStoreConformance({
  name: 'RemoteThreadStore → LocalThreadStore (Codex home with a state DB)',
  capabilities: {
    // The server's paths stay on the server: reads by path are refused through the client.
    rolloutPaths: false,
    liveWriters: true,
    requiresCwd: true,
    archive: true,
    listing: true,
    gitMetadata: true,
    turns: true,
    search: true,
    items: true,
  },
  async createHarness() {
    const root = makeTempDir('skein-remote-home-');
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    mkdirSync(home, { recursive: true });
    mkdirSync(cwd, { recursive: true });
    // A fresh, empty home: opening the runtime is all initStateDb would do (nothing to backfill).
    const stateDb = await StateRuntime.open({ sqliteHome: home, defaultProvider: 'test-provider' });
    const config = {
      codexHome: home,
      defaultModelProvider: 'test-provider',
      collectGitInfo: async () => null,
    };
    const backing = new LocalThreadStore(config, stateDb);
    const { server, client } = await remoteOver(backing);
    const extra: Array<{
      server: ThreadStoreServer;
      client: RemoteThreadStore;
      backing: LocalThreadStore;
    }> = [];
    return {
      store: client,
      cwd,
      async reopen() {
        const again = new LocalThreadStore(config, stateDb);
        const remote = await remoteOver(again);
        extra.push({ ...remote, backing: again });
        return remote.client;
      },
      async cleanup() {
        for (const entry of [{ server, client, backing }, ...extra]) {
          entry.client.close();
          await entry.server.close();
          await entry.backing.close();
        }
        await stateDb.close();
        removeTempDir(root);
      },
    };
  },
});
