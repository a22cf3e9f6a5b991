import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import { turnItems } from '@skein/thread-store';
import { createThreadParams, expectThreadStoreError } from '@skein/thread-store/testing';
import { serveThreadStore } from '@skein/thread-store-remote';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openHomeStore, openThreadStore, threadStoreKindOf } from '../src/index.js';

let postgres: PostgresServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await postgres?.stop();
});

function tempHome(): string {
  const dir = makeTempDir('skein-stores-');
  cleanups.push(() => removeTempDir(dir));
  return dir;
}

const HOME = { defaultModelProvider: 'openai' };

describe('openThreadStore', () => {
  it('names the kind of store a spec means', () => {
    expect(
      [
        'postgres://u@127.0.0.1:5432/db',
        'postgresql://u@127.0.0.1/db',
        'grpc://127.0.0.1:50051',
        'grpcs://127.0.0.1:50051',
        'memory',
        '/home/me/.codex',
        'local',
      ].map(threadStoreKindOf),
    ).toEqual(['postgres', 'postgres', 'grpc', 'grpc', 'memory', 'home', 'home']);
  });

  it('opens postgres://, serves it, and reaches it again through grpc://', async () => {
    const viaPg = await openThreadStore(await postgres.createDatabase(), { home: HOME });
    cleanups.push(() => viaPg.close());
    expect([viaPg.kind, viaPg.stateDb]).toEqual(['postgres', undefined]);
    const params = createThreadParams('/w');
    await viaPg.store.createThread(params);
    await viaPg.store.appendItems({ threadId: params.threadId, items: turnItems('hi', 'hello') });
    await viaPg.store.persistThread(params.threadId);
    await viaPg.store.shutdownThread(params.threadId);
    const server = await serveThreadStore(viaPg.store, '127.0.0.1:0');
    cleanups.push(() => server.close());
    const viaGrpc = await openThreadStore(`grpc://${server.address}`, { home: HOME });
    cleanups.push(() => viaGrpc.close());
    expect(viaGrpc.kind).toBe('grpc');
    const read = await viaGrpc.store.readThread({ threadId: params.threadId });
    expect([read.threadId, read.cwd]).toEqual([params.threadId, '/w']);
  });

  it('opens a Codex home with its state index, and local as the given home', async () => {
    const home = tempHome();
    const opened = await openThreadStore('local', { codexHome: home, home: HOME });
    cleanups.push(() => opened.close());
    expect(opened.kind).toBe('home');
    expect(opened.stateDb).toBeDefined();
    const params = createThreadParams(home);
    await opened.store.createThread(params);
    await opened.store.appendItems({ threadId: params.threadId, items: turnItems('hi', 'hello') });
    await opened.store.persistThread(params.threadId);
    await opened.store.shutdownThread(params.threadId);
    const page = await opened.store.listThreads({ pageSize: 10, allowedSources: [] });
    expect(page.items.map((thread) => thread.threadId)).toEqual([params.threadId]);
  });

  it('refuses what names nothing openable', async () => {
    await expectThreadStoreError(openThreadStore('', { home: HOME }), 'InvalidRequest');
    await expectThreadStoreError(
      openThreadStore('grpc://no-port', { home: HOME }),
      'InvalidRequest',
    );
    await expectThreadStoreError(
      openThreadStore(join(tempHome(), 'missing'), { home: HOME }),
      'InvalidRequest',
    );
  });

  it('opens memory as an in-process store', async () => {
    const opened = await openThreadStore('memory', { home: HOME });
    const params = createThreadParams('/w');
    await opened.store.createThread(params);
    expect(opened.kind).toBe('memory');
    await opened.close();
  });
});

describe('openHomeStore failure policy', () => {
  it('serves the rollout files, and says why once, when the index cannot be opened', async () => {
    const home = tempHome();
    // A directory where the state DB file belongs: SQLite cannot open it.
    mkdirSync(join(home, 'state_5.sqlite'));
    const told: string[] = [];
    for (const waitForIndex of [false, true]) {
      const opened = await openHomeStore(home, {
        ...HOME,
        waitForIndex,
        onIndexUnavailable: (reason) => told.push(reason),
      });
      cleanups.push(() => opened.close());
      expect(opened.stateDb).toBeUndefined();
      const params = createThreadParams(home);
      await opened.store.createThread(params);
      await opened.store.appendItems({ threadId: params.threadId, items: turnItems('q', 'a') });
      await opened.store.persistThread(params.threadId);
      await opened.store.shutdownThread(params.threadId);
      const read = await opened.store.readThread({ threadId: params.threadId });
      expect(read.preview).toBe('q');
    }
    expect(told).toHaveLength(2);
    expect(told.every((reason) => reason.length > 0)).toBe(true);
  });

  it('says where a damaged DB of the home went, and works on', async () => {
    const home = tempHome();
    const first = await openHomeStore(home, { ...HOME, waitForIndex: true });
    await first.close();
    // Neither file is a database any more.
    writeFileSync(join(home, 'state_5.sqlite'), Buffer.alloc(8192, 0x5a));
    writeFileSync(join(home, 'skein_1.sqlite'), Buffer.alloc(8192, 0x5a));
    for (const waitForIndex of [true, false]) {
      const told: string[] = [];
      const opened = await openHomeStore(home, {
        ...HOME,
        waitForIndex,
        warn: (message) => told.push(message),
      });
      let closed = false;
      cleanups.push(() => (closed ? undefined : opened.close()));
      expect(opened.stateDb).toBeDefined();
      // Damaged once, told once: the second open finds healthy files.
      if (waitForIndex) {
        expect(told).toEqual([
          expect.stringMatching(/^the state DB was damaged: moved to .*db-backups\/sqlite-/),
          expect.stringMatching(/^Skein's sidecar DB was damaged: moved to .*db-backups\/sqlite-/),
        ]);
      } else {
        expect(told).toEqual([]);
      }
      await opened.close();
      closed = true;
    }
  });
});
