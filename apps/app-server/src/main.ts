#!/usr/bin/env node
/**
 * `skein-app-server`: the Codex-compatible JSON-RPC app-server for the `thread/*` API.
 *
 * A main-like entrypoint: it builds the state handle once (`initStateDb`: open, migrate,
 * backfill), the ThreadStore once and the ThreadManager once, passes them down, and serves
 * stdio (default) or `--listen ws://IP:PORT` (loopback unless `--ws-auth` is given; see
 * server/ws-auth.ts for the flags, shared with `codex app-server`). It exits cleanly on stdin EOF (stdio) or
 * SIGTERM/SIGINT, shutting loaded threads down and flushing their writers.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { prestartLockHelper } from '@skein/rollout';
import { ThreadManager } from '@skein/thread-manager';
import { openThreadStore } from '@skein/thread-stores';
import { Command, Option } from 'commander';
import { createAppServer } from './app.js';
import { readServerConfig } from './config.js';
import { checkListenPolicy, serveStdio, serveWebSocket } from './server/transports.js';
import {
  loadWsAuth,
  WS_AUTH_MODES,
  type WsAuthFlags,
  wsAuthSettingsFromFlags,
} from './server/ws-auth.js';
import { CODEX_PROTOCOL_VERSION, SKEIN_APP_SERVER_VERSION } from './version.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How long a server started beside another process's backfill waits to switch to the index. */
const BACKGROUND_INDEX_WAIT_MS = 30 * 60_000;

function codexHomeFromEnv(): string {
  const fromEnv = process.env.CODEX_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(homedir(), '.codex');
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name('skein-app-server')
    .description('Codex-compatible JSON-RPC app-server (thread/* API) over a Codex home')
    .option('--listen <url>', 'stdio:// (default) or ws://IP:PORT', 'stdio://')
    .option(
      '--store <spec>',
      'thread store: "local" (the Codex home, default), a Codex home path, postgres://…, grpc://HOST:PORT, grpcs://HOST:PORT',
      'local',
    )
    .option(
      '--store-token-file <path>',
      'bearer token for a grpc(s):// store (default: $SKEIN_STORE_TOKEN_FILE or $SKEIN_STORE_TOKEN)',
    )
    .option(
      '--store-ca-file <path>',
      'PEM CA certificates to trust for a grpcs:// store (default: $SKEIN_STORE_CA_FILE, else system roots)',
    )
    .addOption(
      new Option('--ws-auth <mode>', 'authentication for websocket clients').choices(WS_AUTH_MODES),
    )
    .option('--ws-token-file <path>', 'file holding the capability token')
    .option('--ws-token-sha256 <hex>', 'hex SHA-256 digest of the capability token')
    .option('--ws-shared-secret-file <path>', 'file holding the HS256 secret of signed JWTs')
    .option('--ws-issuer <issuer>', 'expected `iss` of signed JWTs')
    .option('--ws-audience <audience>', 'expected `aud` of signed JWTs')
    .option('--ws-max-clock-skew-seconds <seconds>', 'slack on JWT exp/nbf (default 30)')
    .version(SKEIN_APP_SERVER_VERSION);
  program.parse([...argv]);
  const options = program.opts<
    { listen: string; store: string; storeTokenFile?: string; storeCaFile?: string } & WsAuthFlags
  >();

  // Every listener check happens before the store is opened: a refused start touches nothing.
  const websocket = options.listen !== 'stdio://' && options.listen !== 'stdio';
  const authSettings = wsAuthSettingsFromFlags(options);
  const wsAuth = websocket && authSettings !== null ? loadWsAuth(authSettings) : null;
  if (websocket) checkListenPolicy(options.listen, wsAuth);

  const codexHome = codexHomeFromEnv();
  const config = readServerConfig(codexHome);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const opened = await openThreadStore(options.store, {
    codexHome,
    home: {
      defaultModelProvider: config.modelProvider,
      // Never make startup wait on another process's import: answer from the files, and switch
      // to the index when that import completes.
      backgroundWaitMs: BACKGROUND_INDEX_WAIT_MS,
      warn: log,
      onIndexUnavailable: (reason) =>
        log(`skein-app-server: ${reason}; answering from the rollout files meanwhile`),
      onIndexReady: () => log('skein-app-server: the state index is ready; answering from it'),
    },
    grpc: {
      ...(options.storeTokenFile === undefined ? {} : { tokenFile: options.storeTokenFile }),
      ...(options.storeCaFile === undefined ? {} : { caFile: options.storeCaFile }),
    },
  });
  // Requests run with cold code: a session sends each kind a handful of times, and V8
  // interprets a function until it has run hot. From here on, every function is compiled to
  // V8's baseline tier (Sparkplug: about a microsecond a function, code ~1.5-2x faster than the
  // interpreter) on its first call. Measured: the first 30 index-only `thread/list` pages of a
  // fresh server 1.22 -> 1.08-1.11 ms (median of 7 alternating runs), ~2 MB more RSS. Set after
  // the store opened, so the startup import compiles as before.
  setFlagsFromString('--always-sparkplug');
  // The first thread start, resume, rename or archive takes a file lock, whose helper process
  // would start inside that request; it starts now instead, once the first requests are in.
  setTimeout(prestartLockHelper, 100).unref();
  const manager = new ThreadManager({
    store: opened.store,
    sessionSource: 'vscode',
    cliVersion: CODEX_PROTOCOL_VERSION,
    defaultModelProvider: config.modelProvider,
    idleUnloadDelayMs: config.threadUnloadDelaySecs * 1000,
    onBackgroundError: (error) => log(`[skein-app-server] background error: ${String(error)}`),
  });
  const server = createAppServer({
    store: opened.store,
    manager,
    codexHome,
    defaultModelProvider: config.modelProvider,
    modelProviders: config.modelProviders,
    defaultModel: config.model,
    session: config.session,
    version: SKEIN_APP_SERVER_VERSION,
    log,
  });

  let stopping: Promise<void> | undefined;
  const stop = (closeListener: () => Promise<void>): Promise<void> => {
    stopping ??= (async () => {
      await closeListener();
      await server.idle();
      const report = await manager.shutdownAll(SHUTDOWN_TIMEOUT_MS);
      if (report.timedOut.length > 0 || report.submitFailed.length > 0) {
        log(
          `shutdown incomplete: timed out ${report.timedOut.join(', ')}; failed ${report.submitFailed.join(', ')}`,
        );
      }
      await opened.close();
    })();
    return stopping;
  };

  if (!websocket) {
    const done = serveStdio(server);
    const onSignal = () => void stop(async () => {}).then(() => process.exit(0));
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    await done;
    await stop(async () => {});
    return 0;
  }
  const listener = await serveWebSocket(server, options.listen, { auth: wsAuth, log });
  log(`listening on ${listener.url}`);
  await new Promise<void>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal());
    process.once('SIGINT', () => resolveSignal());
  });
  await stop(() => listener.close());
  return 0;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `skein-app-server: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
