/**
 * The websocket listener is private by default (ARCHITECTURE decision 7, issue 15 item 9),
 * tested on the built server with real sockets on 127.0.0.1:
 *
 * - `--ws-auth capability-token` (token file or SHA-256) and `signed-bearer-token` (HS256
 *   JWT): the same upgrades are played on the real `codex app-server` 0.169.0 started with
 *   the same flags, and both must admit and refuse alike, with the same status and reason;
 * - Codex's own client (`codex --remote … --remote-auth-token-env`) gets in with the token and
 *   is refused without it;
 * - any `Origin` is refused, a `Host` that does not name loopback is refused (DNS rebinding;
 *   0.169.0 does not check it), a non-loopback `--listen` without auth refuses to start and
 *   touches nothing, bad flag combinations are refused, and an oversized message closes only
 *   its own connection with 1009 and a reason.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SKEIN_MAIN } from './support/differential.js';
import {
  type Attempt,
  type AttemptOptions,
  attempt,
  isListening,
  type ListeningServer,
  type RefusedStart,
  signJwt,
  startListening,
} from './support/ws-listener.js';

const TOKEN = 'capability-token-for-tests-0123456789';
const SECRET = 'a-shared-secret-of-more-than-32-bytes-for-hs256';
const now = () => Math.floor(Date.now() / 1000);

let dir: string;
const servers: ListeningServer[] = [];
const homes: string[] = [];

beforeAll(() => {
  dir = makeTempDir('skein-ws-auth-');
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
  writeFileSync(join(dir, 'short-secret'), 'only-20-bytes-secret');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const home of homes) removeTempDir(home);
  removeTempDir(dir);
});

/** A fresh empty home per process, so a refused start can be seen to have touched nothing. */
function freshHome(): string {
  const home = makeTempDir('skein-ws-home-');
  homes.push(home);
  return home;
}

/** Every process that did listen is stopped after the file, even when a test failed. */
async function tracked(start: Promise<ListeningServer | RefusedStart>) {
  const started = await start;
  if (isListening(started)) servers.push(started);
  return started;
}

function skein(args: readonly string[], home = freshHome()) {
  return tracked(
    startListening(process.execPath, [SKEIN_MAIN, ...args], { ...process.env, CODEX_HOME: home }),
  );
}

async function listening(start: Promise<ListeningServer | RefusedStart>) {
  const started = await start;
  if (!isListening(started)) throw new Error(`did not start: ${started.stderr}`);
  return started;
}

function codex(args: readonly string[]) {
  const home = freshHome();
  const env = { ...process.env, CODEX_HOME: home, HOME: home };
  return listening(
    tracked(startListening(ensureCodexCli('0.169.0').binary, ['app-server', ...args], env)),
  );
}

const OPEN: Attempt = { kind: 'open', initialized: true };
const refused = (status: number, body = ''): Attempt => ({ kind: 'refused', status, body });

interface Case {
  name: string;
  options: AttemptOptions;
  expected: Attempt;
}

const capabilityCases: Case[] = [
  { name: 'the token', options: { bearer: TOKEN }, expected: OPEN },
  {
    name: 'a lower-case scheme and padding',
    options: { headers: { Authorization: `bearer   ${TOKEN}  ` } },
    expected: OPEN,
  },
  { name: 'no token', options: {}, expected: refused(401, 'missing websocket bearer token') },
  {
    name: 'a wrong token',
    options: { bearer: `${TOKEN}x` },
    expected: refused(401, 'invalid websocket bearer token'),
  },
  {
    name: 'a prefix of the token',
    options: { bearer: TOKEN.slice(0, 10) },
    expected: refused(401, 'invalid websocket bearer token'),
  },
  {
    name: 'another scheme',
    options: { headers: { Authorization: `Basic ${TOKEN}` } },
    expected: refused(401, 'invalid authorization header'),
  },
  {
    name: 'an empty bearer',
    options: { headers: { Authorization: 'Bearer' } },
    expected: refused(401, 'invalid authorization header'),
  },
  {
    name: 'the token in the query string',
    options: {},
    expected: refused(401, 'missing websocket bearer token'),
  },
  {
    name: 'the token from a foreign Origin',
    options: { bearer: TOKEN, origin: 'https://evil.example' },
    expected: refused(403),
  },
  {
    name: 'the token from a localhost Origin',
    options: { bearer: TOKEN, origin: 'http://localhost:3000' },
    expected: refused(403),
  },
];

function jwtCases(): Case[] {
  const claims = { iss: 'skein-tests', aud: 'app-server' };
  const jwt = (extra: Record<string, unknown>, secret = SECRET) =>
    signJwt(secret, { ...claims, ...extra });
  return [
    { name: 'a valid JWT', options: { bearer: jwt({ exp: now() + 60 }) }, expected: OPEN },
    {
      name: 'an audience list holding ours',
      options: { bearer: jwt({ exp: now() + 60, aud: ['other', 'app-server'] }) },
      expected: OPEN,
    },
    {
      name: 'an expiry within the clock skew',
      options: { bearer: jwt({ exp: now() - 2 }) },
      expected: OPEN,
    },
    {
      name: 'another secret',
      options: { bearer: jwt({ exp: now() + 60 }, `${SECRET}-other`) },
      expected: refused(401, 'invalid websocket jwt'),
    },
    {
      name: 'an expired JWT',
      options: { bearer: jwt({ exp: now() - 120 }) },
      expected: refused(401, 'expired websocket jwt'),
    },
    {
      name: 'a JWT not valid yet',
      options: { bearer: jwt({ exp: now() + 600, nbf: now() + 300 }) },
      expected: refused(401, 'websocket jwt is not valid yet'),
    },
    {
      name: 'another issuer',
      options: { bearer: jwt({ exp: now() + 60, iss: 'someone-else' }) },
      expected: refused(401, 'websocket jwt issuer mismatch'),
    },
    {
      name: 'another audience',
      options: { bearer: jwt({ exp: now() + 60, aud: 'elsewhere' }) },
      expected: refused(401, 'websocket jwt audience mismatch'),
    },
    {
      name: 'no expiry',
      options: { bearer: signJwt(SECRET, claims) },
      expected: refused(401, 'invalid websocket jwt'),
    },
    {
      name: 'a fractional expiry',
      options: { bearer: jwt({ exp: now() + 60.5 }) },
      expected: refused(401, 'invalid websocket jwt'),
    },
    {
      name: 'alg none',
      options: { bearer: signJwt(SECRET, { ...claims, exp: now() + 60 }, { alg: 'none' }) },
      expected: refused(401, 'invalid websocket jwt'),
    },
    {
      name: 'an HS384 header',
      options: { bearer: signJwt(SECRET, { ...claims, exp: now() + 60 }, { alg: 'HS384' }) },
      expected: refused(401, 'invalid websocket jwt'),
    },
    {
      name: 'the capability token instead of a JWT',
      options: { bearer: TOKEN },
      expected: refused(401, 'invalid websocket jwt'),
    },
  ];
}

async function play(url: string, cases: Case[]): Promise<Record<string, Attempt>> {
  const outcomes: Record<string, Attempt> = {};
  for (const { name, options } of cases) {
    const target = name === 'the token in the query string' ? `${url}/?token=${TOKEN}` : url;
    outcomes[name] = await attempt(target, options);
  }
  return outcomes;
}

const expectedOf = (cases: Case[]) =>
  Object.fromEntries(cases.map(({ name, expected }) => [name, expected]));

describe('websocket auth, admitted and refused as codex app-server 0.169.0 does', () => {
  const tokenFileArgs = ['--ws-auth', 'capability-token', '--ws-token-file', ''];
  const jwtArgs = [
    '--ws-auth',
    'signed-bearer-token',
    '--ws-shared-secret-file',
    '',
    '--ws-issuer',
    'skein-tests',
    '--ws-audience',
    'app-server',
  ];
  beforeAll(() => {
    tokenFileArgs[3] = join(dir, 'token');
    jwtArgs[3] = join(dir, 'secret');
  });

  it('capability-token from --ws-token-file', async () => {
    const listen = ['--listen', 'ws://127.0.0.1:0', ...tokenFileArgs];
    const [ours, theirs] = await Promise.all([listening(skein(listen)), codex(listen)]);
    const got = await play(ours.url, capabilityCases);
    expect(got).toEqual(expectedOf(capabilityCases));
    expect(await play(theirs.url, capabilityCases)).toEqual(got);
  });

  it('capability-token from --ws-token-sha256 (the token itself never given)', async () => {
    const digest = createHash('sha256').update(TOKEN).digest('hex');
    const listen = [
      '--listen',
      'ws://127.0.0.1:0',
      '--ws-auth',
      'capability-token',
      '--ws-token-sha256',
      digest,
    ];
    const cases = capabilityCases.slice(0, 4);
    const [ours, theirs] = await Promise.all([listening(skein(listen)), codex(listen)]);
    const got = await play(ours.url, cases);
    expect(got).toEqual(expectedOf(cases));
    expect(await play(theirs.url, cases)).toEqual(got);
  });

  it('signed-bearer-token: HS256 JWTs with exp, nbf, iss, aud and 30 s of skew', async () => {
    const listen = ['--listen', 'ws://127.0.0.1:0', ...jwtArgs];
    const [ours, theirs] = await Promise.all([listening(skein(listen)), codex(listen)]);
    const cases = jwtCases();
    const got = await play(ours.url, cases);
    expect(got).toEqual(expectedOf(cases));
    expect(await play(theirs.url, cases)).toEqual(got);
  });

  it("admits Codex's own client with its token and refuses it without", async () => {
    const listen = ['--listen', 'ws://127.0.0.1:0', ...tokenFileArgs];
    const server = await listening(skein(listen));
    const clientHome = freshHome();
    const runClient = (token: string) =>
      new Promise<string>((resolve) => {
        // The TUI needs a terminal: script(1) gives it one; it exits once the session fails.
        const command = `${ensureCodexCli('0.169.0').binary} --remote ${server.url} --remote-auth-token-env SKEIN_TEST_WS_TOKEN`;
        execFile(
          'script',
          ['-qec', command, '/dev/null'],
          {
            env: {
              ...process.env,
              CODEX_HOME: clientHome,
              HOME: clientHome,
              TERM: 'xterm',
              SKEIN_TEST_WS_TOKEN: token,
            },
            timeout: 30_000,
            killSignal: 'SIGKILL',
          },
          (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
        );
      });
    const refusedOutput = await runClient('not-the-token');
    expect(refusedOutput).toMatch(/failed to connect to remote app server.*401 Unauthorized/);
    expect(server.stderr()).toMatch(/upgrade refused \(401\): invalid websocket bearer token/);
    const refusals = server.stderr().split('upgrade refused').length;
    const admittedOutput = await runClient(TOKEN);
    // Past the upgrade the TUI talks JSON-RPC (it stops at a method Skein does not serve).
    expect(admittedOutput).not.toMatch(/failed to connect|401/);
    expect(server.stderr().split('upgrade refused').length).toBe(refusals);
  });
});

describe('websocket listener without auth (loopback)', () => {
  let server: ListeningServer;
  let port: string;

  beforeAll(async () => {
    server = await listening(skein(['--listen', 'ws://127.0.0.1:0']));
    port = new URL(server.url).port;
  });

  it('admits a local client without Origin', async () => {
    expect(await attempt(server.url)).toEqual(OPEN);
  });

  it('refuses every Origin, foreign or local, on upgrades and on probes', async () => {
    for (const origin of ['https://evil.example', `http://127.0.0.1:${port}`, 'null']) {
      expect(await attempt(server.url, { origin })).toEqual(refused(403));
    }
    const probe = await fetch(`http://127.0.0.1:${port}/readyz`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(probe.status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });

  it('refuses a Host that does not name loopback (DNS rebinding)', async () => {
    for (const host of [`evil.example:${port}`, `192.168.1.20:${port}`, 'evil.example']) {
      expect(await attempt(server.url, { headers: { Host: host } })).toEqual(
        refused(403, 'Host header does not name a loopback address'),
      );
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect(await attempt(server.url, { headers: { Host: host } })).toEqual(OPEN);
    }
  });

  it('closes an oversized message with 1009 and a reason; the server and others go on', async () => {
    const bystander = new WebSocket(server.url);
    await new Promise((resolve) => bystander.once('open', resolve));
    const socket = new WebSocket(server.url);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) =>
      socket.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    socket.send('x'.repeat(16 * 1024 * 1024 + 1));
    expect(await closed).toEqual([1009, 'message larger than 16777216 bytes']);
    const answered = new Promise<unknown>((resolve) =>
      bystander.once('message', (data) => resolve(JSON.parse(data.toString()))),
    );
    bystander.send(JSON.stringify({ id: 7, method: 'thread/list', params: {} }));
    expect(await answered).toMatchObject({ id: 7, error: { message: 'Not initialized' } });
    bystander.close();
    expect(await attempt(server.url)).toEqual(OPEN);
    expect(server.child.exitCode).toBeNull();
  });
});

/** `unshare -rn` (a private network namespace) when it works here, else nothing. */
const NETNS_PREFIX = (() => {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore', timeout: 5_000 });
    return ['unshare', '-rn'];
  } catch {
    return [];
  }
})();

describe('listener policy at startup', () => {
  it.each([
    ['ws://0.0.0.0:0'],
    ['ws://[::]:0'],
    ['ws://192.168.1.20:0'],
    ['ws://example.invalid:0'],
  ])('refuses --listen %s without auth, before opening the home', async (url) => {
    const home = freshHome();
    // In a network namespace of its own when the system allows one, so that even a
    // regression that binds the address is reachable from nowhere.
    const [command = process.execPath, ...prefix] = [...NETNS_PREFIX, process.execPath];
    const outcome = await startListening(command, [...prefix, SKEIN_MAIN, '--listen', url], {
      ...process.env,
      CODEX_HOME: home,
    });
    if (isListening(outcome)) await outcome.stop();
    expect(isListening(outcome)).toBe(false);
    const { code, stderr } = outcome as RefusedStart;
    expect(code).toBe(1);
    expect(stderr).toContain(`refusing to listen on ${url} without authentication`);
    expect(readdirSync(home)).toEqual([]);
  });

  it.each([
    [['--ws-token-file', 'TOKEN'], 'the --ws-* flags need --ws-auth'],
    [['--ws-auth', 'capability-token'], 'needs --ws-token-file or --ws-token-sha256'],
    [
      ['--ws-auth', 'capability-token', '--ws-token-file', 'TOKEN', '--ws-token-sha256', 'ab'],
      'either --ws-token-file or --ws-token-sha256',
    ],
    [['--ws-auth', 'capability-token', '--ws-token-sha256', 'abc'], '64 hexadecimal characters'],
    [
      ['--ws-auth', 'capability-token', '--ws-token-file', 'TOKEN', '--ws-issuer', 'x'],
      'need --ws-auth signed-bearer-token',
    ],
    [['--ws-auth', 'signed-bearer-token'], 'needs --ws-shared-secret-file'],
    [
      ['--ws-auth', 'signed-bearer-token', '--ws-shared-secret-file', 'SHORT'],
      'it must be at least 32',
    ],
    [['--ws-auth', 'capability-token', '--ws-token-file', 'MISSING'], 'cannot read'],
    [['--ws-auth', 'password'], 'Allowed choices are capability-token, signed-bearer-token'],
  ])('refuses %j', async (args, message) => {
    const files: Record<string, string> = {
      TOKEN: join(dir, 'token'),
      SHORT: join(dir, 'short-secret'),
      MISSING: join(dir, 'missing'),
    };
    const outcome = await skein([
      '--listen',
      'ws://127.0.0.1:0',
      ...args.map((arg) => files[arg] ?? arg),
    ]);
    expect(isListening(outcome)).toBe(false);
    expect((outcome as RefusedStart).code).not.toBe(0);
    expect((outcome as RefusedStart).stderr).toContain(message);
  });
});
