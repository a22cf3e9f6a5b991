/**
 * The built thread-store-server is private by default (ARCHITECTURE decision 7, issue 15
 * item 9): with `--token-file` (or SKEIN_STORE_TOKEN*) and `--tls-cert`/`--tls-key` it serves
 * only clients with the token over TLS. The built app-server (`--store grpcs://…
 * --store-token-file --store-ca-file`) and the built CLI (token and CA from the environment)
 * reach it; without the token they are refused with a message saying how to give it. A
 * non-loopback `--listen` without a token refuses to start and touches nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  makeSelfSignedCert,
  makeTempDir,
  removeTempDir,
  type SelfSignedCert,
  StdioJsonRpcClient,
} from '@skein/test-support';
import type { ThreadId } from '@skein/thread-store';
import {
  agentMessageItem,
  turnCompleteItem,
  turnContextItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { openRemoteThreadStore } from '@skein/thread-store-remote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMain, type RunningServer, startStoreServer } from './helpers.js';

const appServerMain = fileURLToPath(new URL('../../app-server/dist/main.js', import.meta.url));
const cliMain = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const TOKEN = 'thread-store-server-token-7d2e';

let dir: string;
let tokenFile: string;
let cert: SelfSignedCert;
const tempDirs: string[] = [];
const running: RunningServer[] = [];

function tempDir(prefix: string): string {
  const path = makeTempDir(prefix);
  tempDirs.push(path);
  return path;
}

/** The store server's environment without any SKEIN_STORE_* the outer shell may carry. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('SKEIN_STORE_')) delete env[key];
  return { ...env, ...extra };
}

beforeAll(() => {
  for (const main of [appServerMain, cliMain]) {
    if (!existsSync(main)) throw new Error(`${main} is missing: build the workspace first`);
  }
  dir = tempDir('skein-store-access-');
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  cert = makeSelfSignedCert(dir);
});
afterAll(async () => {
  for (const server of running) await server.stop();
  for (const path of tempDirs) removeTempDir(path);
});

async function startServer(args: readonly string[], env = cleanEnv()): Promise<RunningServer> {
  const server = await startStoreServer(tempDir('skein-store-home-'), args, env);
  running.push(server);
  return server;
}

/** A listed conversation written through an authorized client. */
async function seed(spec: string, question: string): Promise<ThreadId> {
  const store = openRemoteThreadStore(spec, {
    env: {},
    grpc: { tokenFile, caFile: cert.certFile },
  });
  const opened = { store, close: async () => store.close() };
  try {
    const threadId = randomUUID() as ThreadId;
    const cwd = tempDir('skein-store-cwd-');
    await opened.store.createThread({
      threadId,
      source: 'cli',
      originator: 'skein-access-test',
      metadata: { cwd, modelProvider: 'openai', memoryMode: 'enabled' },
    });
    await opened.store.persistThread(threadId);
    await opened.store.appendItems({
      threadId,
      items: [
        turnStartedItem('turn-1'),
        turnContextItem(cwd, 'gpt-test', 'turn-1'),
        userMessageItem(question),
        agentMessageItem(`answer to ${question}`),
        turnCompleteItem('turn-1', `answer to ${question}`),
      ],
    });
    await opened.store.shutdownThread(threadId);
    return threadId;
  } finally {
    await opened.close();
  }
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runToExit(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  return new Promise<Exit>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a token and TLS', () => {
  let server: RunningServer;
  let spec: string;
  let threadId: ThreadId;

  beforeAll(async () => {
    server = await startServer([
      '--token-file',
      tokenFile,
      '--tls-cert',
      cert.certFile,
      '--tls-key',
      cert.keyFile,
    ]);
    // By name, as certificates name hosts (with an IP, Node warns about the TLS ServerName).
    spec = `grpcs://localhost:${server.address.split(':').pop()}`;
    threadId = await seed(spec, 'question over tls');
  });

  it('is reached by the app-server with --store-token-file and --store-ca-file', async () => {
    const args = ['--store', spec, '--store-token-file', tokenFile, '--store-ca-file'];
    const app = new StdioJsonRpcClient(process.execPath, [appServerMain, ...args, cert.certFile], {
      cwd: dir,
      env: cleanEnv({ CODEX_HOME: tempDir('skein-store-app-') }),
    });
    try {
      await app.initialize();
      const listed = await app.request<{ data: { id: string; preview: string }[] }>(
        'thread/list',
        {},
      );
      expect(listed.data.map((thread) => [thread.id, thread.preview])).toEqual([
        [threadId, 'question over tls'],
      ]);
    } finally {
      await app.close();
    }
  });

  it('refuses the app-server without the token, saying how to give it', async () => {
    const args = ['--store', spec, '--store-ca-file', cert.certFile];
    const app = new StdioJsonRpcClient(process.execPath, [appServerMain, ...args], {
      cwd: dir,
      env: cleanEnv({ CODEX_HOME: tempDir('skein-store-app-') }),
    });
    try {
      await app.initialize();
      await expect(app.request('thread/list', {})).rejects.toThrow(
        /refused the call \(missing bearer token\); give its token with --store-token-file/,
      );
    } finally {
      await app.close();
    }
  });

  it('is reached by the CLI with the token and CA from the environment', async () => {
    const home = join(tempDir('skein-store-cli-'), 'unused-home');
    const list = (extra: NodeJS.ProcessEnv) =>
      runToExit(process.execPath, [cliMain, '--store', spec, 'list', '--json'], {
        ...cleanEnv({ CODEX_HOME: home, NO_COLOR: '1', SKEIN_STORE_CA_FILE: cert.certFile }),
        ...extra,
      });
    const allowed = await list({ SKEIN_STORE_TOKEN_FILE: tokenFile });
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.stdout) as { id: string }[]).map((t) => t.id)).toEqual([threadId]);

    const wrong = await list({ SKEIN_STORE_TOKEN: 'not-the-token' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('refused the call (invalid bearer token)');
  });

  it('announces what it demands in its ready line', async () => {
    expect(server.ready).toEqual({
      listening: server.address,
      store: 'home',
      auth: 'token',
      tls: true,
    });
    const plain = await startServer([]);
    expect(plain.ready).toMatchObject({ auth: 'none', tls: false });
  });
});

describe('the token from the environment', () => {
  it('demands SKEIN_STORE_TOKEN when it is set, with no flag', async () => {
    const server = await startServer([], cleanEnv({ SKEIN_STORE_TOKEN: TOKEN }));
    const spec = `grpc://${server.address}`;
    const refused = openRemoteThreadStore(spec, { env: {} });
    const allowed = openRemoteThreadStore(spec, { env: { SKEIN_STORE_TOKEN: TOKEN } });
    try {
      await expect(refused.listThreads({ pageSize: 1 })).rejects.toThrow(
        'refused the call (missing bearer token)',
      );
      expect((await allowed.listThreads({ pageSize: 1 })).items).toEqual([]);
    } finally {
      await refused.close();
      await allowed.close();
    }
  });
});

/** `unshare -rn` (a private network namespace) when it works here, else null. */
const NETNS: string[] | null = (() => {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore', timeout: 5_000 });
    return ['unshare', '-rn'];
  } catch {
    return null;
  }
})();

/** Runs the server to its exit, in a private network namespace when possible. */
function serverRun(args: readonly string[], env = cleanEnv()) {
  const [command = process.execPath, ...prefix] = [...(NETNS ?? []), process.execPath];
  return runToExit(command, [...prefix, appMain, ...args], env);
}

describe('listen policy', () => {
  it.each(['0.0.0.0:0', '[::]:0', '192.168.1.20:0'])(
    'refuses --listen %s without a token, before opening the store',
    async (address) => {
      const home = tempDir('skein-store-untouched-');
      const result = await serverRun(['--listen', address, '--store', home]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`refusing to listen on ${address} without authentication`);
      expect(readdirSync(home)).toEqual([]);
    },
  );

  // Listening on 0.0.0.0 for real is only done inside a namespace with no way out.
  it.skipIf(NETNS === null)(
    'serves a non-loopback address with a token, warning when there is no TLS',
    async () => {
      const home = tempDir('skein-store-netns-');
      const [command = 'unshare', ...prefix] = NETNS ?? [];
      const child = spawn(
        command,
        [...prefix, process.execPath, appMain, '--listen', '0.0.0.0:0', '--store', home],
        { env: cleanEnv({ SKEIN_STORE_TOKEN_FILE: tokenFile }), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line: ${stderr}`)), 60_000);
        child.stdout.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString());
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      expect(JSON.parse(line)).toMatchObject({ auth: 'token', tls: false, store: 'home' });
      expect(stderr).toContain('without TLS: the token and every thread cross the network');
    },
  );

  it.each([
    [['--tls-cert', 'CERT'], '--tls-cert and --tls-key go together'],
    [['--token-file', 'MISSING'], 'cannot read the store token file'],
    [['--token-file', 'EMPTY'], 'is empty'],
    [['--tls-cert', 'CERT', '--tls-key', 'MISSING'], 'cannot read the TLS key'],
  ])('refuses %j', async (args, message) => {
    const empty = join(dir, 'empty-token');
    writeFileSync(empty, '  \n');
    const files: Record<string, string> = {
      CERT: cert.certFile,
      MISSING: join(dir, 'missing'),
      EMPTY: empty,
    };
    const home = tempDir('skein-store-untouched-');
    const result = await serverRun([
      '--listen',
      '127.0.0.1:0',
      '--store',
      home,
      ...args.map((arg) => files[arg] ?? arg),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(readdirSync(home)).toEqual([]);
  });
});
