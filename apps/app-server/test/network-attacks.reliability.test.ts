/**
 * Network attacks on the two listeners (issue 15.9): the websocket app-server with a
 * capability token, and the gRPC thread-store server with a bearer token. Every attempt
 * without the right credentials, from a browser (an `Origin`), or naming a foreign `Host` is
 * refused before any JSON-RPC or store call runs; a non-loopback bind without auth refuses to
 * start. The right credentials still work, so the refusals are not a dead listener.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  installFixtureHome,
  LineChild,
  makeTempDir,
  recordFigures,
  removeTempDir,
} from '@skein/test-support';
import { openRemoteThreadStore } from '@skein/thread-store-remote';
import { afterAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';
import { type Attempt, attempt, isListening, startListening } from './support/ws-listener.js';

const STORE_SERVER = join(
  import.meta.dirname,
  '..',
  '..',
  'thread-store-server',
  'dist',
  'main.js',
);
const TOKEN = 'reliability-token-3f9a1c';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('SKEIN_STORE_')) delete env[key];
  return { ...env, ...extra };
}

/** Starts a process that should refuse to start: its exit code and stderr. */
async function refusedStart(args: string[], env: NodeJS.ProcessEnv) {
  const child = new LineChild(process.execPath, args, { env });
  const exit = await Promise.race([
    child.exited,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000)),
  ]);
  await child.kill();
  return { exit, stderr: child.stderr };
}

describe('network listeners', () => {
  it('websocket: no token, a wrong token, an Origin, a foreign Host are refused; a public bind needs auth', async () => {
    const started = Date.now();
    const { home } = installFixtureHome('codex-0.169');
    const dir = makeTempDir('skein-rel-net-');
    dirs.push(home, dir);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const env = { ...process.env, CODEX_HOME: home };
    const listening = await startListening(
      process.execPath,
      [
        SKEIN_MAIN,
        '--listen',
        'ws://127.0.0.1:0',
        '--ws-auth',
        'capability-token',
        '--ws-token-file',
        tokenFile,
      ],
      env,
    );
    if (!isListening(listening)) throw new Error(`did not start: ${listening.stderr}`);
    const attacks: Record<string, Attempt> = {};
    try {
      attacks['no token'] = await attempt(listening.url);
      attacks['wrong token'] = await attempt(listening.url, { bearer: `${TOKEN}x` });
      attacks['token in the query'] = await attempt(`${listening.url}/?token=${TOKEN}`);
      attacks['browser Origin with the token'] = await attempt(listening.url, {
        bearer: TOKEN,
        origin: 'https://evil.example',
      });
      attacks['foreign Host (DNS rebinding)'] = await attempt(listening.url, {
        bearer: TOKEN,
        headers: { Host: 'evil.example' },
      });
      const allowed = await attempt(listening.url, { bearer: TOKEN });
      expect(allowed).toEqual({ kind: 'open', initialized: true });
    } finally {
      await listening.stop();
    }
    const publicBind = await refusedStart([SKEIN_MAIN, '--listen', 'ws://0.0.0.0:0'], env);
    const refused = Object.values(attacks).filter((a) => a.kind === 'refused').length;
    recordFigures(
      'network: websocket app-server',
      {
        attacks: Object.keys(attacks).length + 1,
        refused: refused + (publicBind.exit?.code !== 0 ? 1 : 0),
      },
      started,
    );
    expect(attacks).toEqual({
      'no token': { kind: 'refused', status: 401, body: expect.any(String) },
      'wrong token': { kind: 'refused', status: 401, body: expect.any(String) },
      'token in the query': { kind: 'refused', status: 401, body: expect.any(String) },
      'browser Origin with the token': { kind: 'refused', status: 403, body: expect.any(String) },
      'foreign Host (DNS rebinding)': { kind: 'refused', status: 403, body: expect.any(String) },
    });
    expect(publicBind.exit?.code).not.toBe(0);
    expect(publicBind.stderr).toMatch(
      /refusing to listen on ws:\/\/0\.0\.0\.0:0 without authentication/,
    );
  });

  it('gRPC store server: calls without the token or with a wrong one are refused; a public bind needs a token', async () => {
    const started = Date.now();
    const home = makeTempDir('skein-rel-net-home-');
    const dir = makeTempDir('skein-rel-net-');
    dirs.push(home, dir);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const server = new LineChild(
      process.execPath,
      [STORE_SERVER, '--listen', '127.0.0.1:0', '--store', home, '--token-file', tokenFile],
      { env: cleanEnv({}) },
    );
    const ready = JSON.parse(await server.waitForLine((line) => line.startsWith('{'))) as {
      listening: string;
    };
    const outcomes: Record<string, string> = {};
    const call = async (label: string, token: string | null) => {
      // The token only as given here: an empty environment, never the outer shell's.
      const store = openRemoteThreadStore(`grpc://${ready.listening}`, {
        env: {},
        ...(token === null ? {} : { grpc: { token } }),
      });
      try {
        await store.listThreads({ pageSize: 1 });
        outcomes[label] = 'served';
      } catch (error) {
        outcomes[label] = `refused: ${(error as Error).message}`;
      } finally {
        store.close();
      }
    };
    try {
      await call('no token', null);
      await call('wrong token', `${TOKEN}x`);
      await call('right token', TOKEN);
    } finally {
      await server.stop();
    }
    const publicBind = await refusedStart(
      [STORE_SERVER, '--listen', '0.0.0.0:0', '--store', home],
      cleanEnv({}),
    );
    recordFigures(
      'network: gRPC thread-store server',
      {
        attacks: 3,
        refused:
          Object.entries(outcomes).filter(
            ([label, o]) => label !== 'right token' && o.startsWith('refused'),
          ).length + (publicBind.exit?.code !== 0 ? 1 : 0),
      },
      started,
    );
    expect(outcomes['no token']).toMatch(/^refused: .*(token|unauthenticated)/i);
    expect(outcomes['wrong token']).toMatch(/^refused: .*(token|unauthenticated)/i);
    expect(outcomes['right token']).toBe('served');
    expect(publicBind.exit?.code).not.toBe(0);
    expect(publicBind.stderr).toMatch(/token/i);
  });
});
