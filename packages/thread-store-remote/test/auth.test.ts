/**
 * Access control of the gRPC thread store (ARCHITECTURE decision 7, issue 15 item 9), with a
 * real server and real clients on 127.0.0.1: a bearer token on every call (unary and the
 * session stream), `UNAUTHENTICATED` and nothing done without it or with a wrong one, TLS from
 * a self-signed certificate generated here, `grpc(s)://` specs carrying the token and CA from
 * options or the environment, and addresses other machines could reach refused without a
 * token (checked without ever listening on them).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { newThreadId } from '@skein/state';
import { makeSelfSignedCert, makeTempDir, removeTempDir } from '@skein/test-support';
import { InMemoryThreadStore, type ThreadStore } from '@skein/thread-store';
import { createThreadParams, userMessageItem } from '@skein/thread-store/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  isLocalAddress,
  openRemoteThreadStore,
  RemoteThreadStore,
  readTlsFiles,
  serveThreadStore,
  type ThreadStoreServer,
  threadStoreService,
} from '../src/index.js';

const TOKEN = 'store-token-for-tests-4f1c9a';
let dir: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  dir = makeTempDir('skein-store-auth-');
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDir(dir));

async function serve(options: Parameters<typeof serveThreadStore>[2] = {}) {
  const backing = new InMemoryThreadStore();
  const server = await serveThreadStore(backing, '127.0.0.1:0', options);
  cleanups.push(() => server.close());
  return { backing, server };
}

function client(address: string, options: ConstructorParameters<typeof RemoteThreadStore>[1]) {
  const store = new RemoteThreadStore(address, { callTimeoutMs: 10_000, ...options });
  cleanups.push(() => store.close());
  return store;
}

/** Creates a thread, appends to it and reads it back: the whole write path, session included. */
async function roundTrip(store: ThreadStore): Promise<unknown[]> {
  const params = createThreadParams(null);
  await store.createThread(params);
  await store.appendItems({ threadId: params.threadId, items: [userMessageItem('hello')] });
  await store.flushThread(params.threadId);
  const history = await store.loadHistory({ threadId: params.threadId });
  await store.shutdownThread(params.threadId);
  return history.items.filter((item) => item.type === 'event_msg');
}
const WRITTEN = [userMessageItem('hello')];

/** A raw call with chosen metadata: the status code and details the server answers. */
function rawCall(
  server: ThreadStoreServer,
  authorization: string | undefined,
  method = 'ListThreads',
): Promise<{ code: grpc.status; details: string }> {
  const Client = threadStoreService();
  const raw = new Client(server.address, grpc.credentials.createInsecure());
  cleanups.push(() => raw.close());
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  const fn = (raw as unknown as Record<string, grpc.requestCallback<unknown> & CallableFunction>)[
    method
  ] as unknown as (
    request: unknown,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null) => void,
  ) => void;
  return new Promise((resolve) => {
    fn.call(raw, { page_size: 5 }, metadata, (error) =>
      resolve({ code: error?.code ?? grpc.status.OK, details: error?.details ?? '' }),
    );
  });
}

describe('bearer token', () => {
  it('serves a client presenting the token, unary calls and the session stream alike', async () => {
    const { server } = await serve({ token: TOKEN });
    expect(await roundTrip(client(server.address, { token: TOKEN }))).toEqual(WRITTEN);
  });

  it('answers UNAUTHENTICATED, and does nothing, without the token or with a wrong one', async () => {
    const { server, backing } = await serve({ token: TOKEN });
    expect(await rawCall(server, undefined)).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: 'missing bearer token',
    });
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, 8)}`, 'Bearer ']) {
      expect((await rawCall(server, wrong)).code).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect(await rawCall(server, `Basic ${TOKEN}`)).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: 'invalid authorization metadata',
    });
    expect((await rawCall(server, `bearer ${TOKEN}`)).code).toBe(grpc.status.OK);

    const params = createThreadParams(null);
    for (const options of [{}, { token: 'not-the-token' }]) {
      const refused = client(server.address, options);
      await expect(refused.createThread(params)).rejects.toThrow(
        /remote thread store refused the call \((missing|invalid) bearer token\); give its token/,
      );
      await expect(refused.listThreads({ pageSize: 5 })).rejects.toThrow(/refused the call/);
    }
    const page = await backing.listThreads({ pageSize: 5 });
    expect(page.items).toEqual([]);
    await expect(backing.readThread({ threadId: params.threadId })).rejects.toThrow();
  });

  it('refuses the session stream without the token', async () => {
    const { server } = await serve({ token: TOKEN });
    const Client = threadStoreService();
    const raw = new Client(server.address, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const open = (raw as unknown as Record<string, CallableFunction>).OpenSession as (
      request: unknown,
    ) => grpc.ClientReadableStream<unknown>;
    const stream = open.call(raw, { session_id: newThreadId() });
    const status = await new Promise<grpc.status>((resolve) => {
      stream.on('data', () => resolve(grpc.status.OK));
      stream.on('error', (error: grpc.ServiceError) => resolve(error.code));
    });
    expect(status).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('needs no token on loopback when the server has none', async () => {
    const { server } = await serve();
    expect(await roundTrip(client(server.address, {}))).toEqual(WRITTEN);
  });
});

describe('listen policy', () => {
  it.each(['0.0.0.0:0', '[::]:0', '10.1.2.3:0', 'example.invalid:0'])(
    'refuses %s without a token, before binding',
    async (address) => {
      await expect(serveThreadStore(new InMemoryThreadStore(), address)).rejects.toThrow(
        `refusing to serve the thread store on ${address} without authentication`,
      );
    },
  );

  it('tells local addresses from the others', () => {
    const local = ['127.0.0.1:1', '127.9.9.9:1', '[::1]:1', 'localhost:1', 'unix:/tmp/s'];
    const remote = ['0.0.0.0:1', '[::]:1', '192.168.0.2:1', '[::ffff:10.0.0.1]:1', 'a.b:1'];
    expect(local.map(isLocalAddress)).toEqual(local.map(() => true));
    expect(remote.map(isLocalAddress)).toEqual(remote.map(() => false));
  });
});

describe('TLS', () => {
  it('serves TLS with a self-signed certificate to clients that trust it', async () => {
    const cert = makeSelfSignedCert(dir, 'tls-server');
    const other = makeSelfSignedCert(dir, 'other-ca');
    const { server } = await serve({
      token: TOKEN,
      tls: readTlsFiles(cert.certFile, cert.keyFile),
    });
    const port = server.port;
    const ca = readTlsFiles(cert.certFile, cert.keyFile).cert;
    for (const host of ['127.0.0.1', 'localhost']) {
      const trusted = client(`grpcs://${host}:${port}`, { token: TOKEN, tls: { ca } });
      expect(await roundTrip(trusted)).toEqual(WRITTEN);
    }

    // Plaintext to a TLS port, TLS with only the system roots, TLS trusting another CA.
    const otherCa = readTlsFiles(other.certFile, other.keyFile).cert;
    for (const options of [{ tls: false }, { tls: true }, { tls: { ca: otherCa } }]) {
      const refused = client(`127.0.0.1:${port}`, {
        token: TOKEN,
        callTimeoutMs: 5_000,
        ...options,
      });
      await expect(refused.listThreads({ pageSize: 1 })).rejects.toThrow(
        /failed to connect to remote thread store/,
      );
    }
  });

  it('opens grpcs:// specs with the token and CA from options or the environment', async () => {
    const cert = makeSelfSignedCert(dir, 'spec-server');
    const { server } = await serve({
      token: TOKEN,
      tls: readTlsFiles(cert.certFile, cert.keyFile),
    });
    const spec = `grpcs://127.0.0.1:${server.port}`;
    const environments: NodeJS.ProcessEnv[] = [
      { SKEIN_STORE_TOKEN: TOKEN, SKEIN_STORE_CA_FILE: cert.certFile },
      { SKEIN_STORE_TOKEN_FILE: join(dir, 'token'), SKEIN_STORE_CA_FILE: cert.certFile },
    ];
    for (const env of environments) {
      const opened = openRemoteThreadStore(spec, { env });
      cleanups.push(async () => opened.close());
      expect(await roundTrip(opened)).toEqual(WRITTEN);
    }
    const byOptions = openRemoteThreadStore(spec, {
      env: {},
      grpc: { tokenFile: join(dir, 'token'), caFile: cert.certFile },
    });
    cleanups.push(async () => byOptions.close());
    expect(await roundTrip(byOptions)).toEqual(WRITTEN);

    const tokenless = openRemoteThreadStore(spec, { env: { SKEIN_STORE_CA_FILE: cert.certFile } });
    cleanups.push(async () => tokenless.close());
    await expect(tokenless.listThreads({ pageSize: 1 })).rejects.toThrow(
      /refused the call \(missing bearer token\)/,
    );
    expect(() =>
      openRemoteThreadStore(`grpc://127.0.0.1:${server.port}`, {
        env: {},
        grpc: { caFile: cert.certFile },
      }),
    ).toThrow('a CA file needs a grpcs:// store');
    expect(() =>
      openRemoteThreadStore(spec, { env: {}, grpc: { tokenFile: join(dir, 'missing') } }),
    ).toThrow('cannot read the store token file');
  });
});
