import {
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import { InMemoryThreadStore, type ThreadStore } from '@skein/thread-store';
import {
  describeThreadStoreConformance,
  type ThreadStoreCapabilities,
} from '@skein/thread-store/testing';
import { PostgresThreadStore } from '@skein/thread-store-postgres';
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
  turns: false,
  search: false,
};

describeThreadStoreConformance({
  name: 'RemoteThreadStore → PostgresThreadStore',
  capabilities: pgCapabilities,
  async createHarness() {
    const url = await postgres.createDatabase();
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
