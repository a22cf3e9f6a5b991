import {
  isLocalAddress,
  readTlsFiles,
  type ServerTls,
  serveThreadStore,
  storeTokenFrom,
} from '@skein/thread-store-remote';
import { openThreadStore } from '@skein/thread-stores';

/**
 * `runServer`'s options: the `host:port` to listen on, the store spec (a Codex home path,
 * `postgres://…` or `grpc://host:port`), and the provider of threads that name none.
 */
export interface RunServerOptions {
  listen: string;
  store: string;
  defaultProvider: string;
  /** File holding the bearer token clients must present (else the SKEIN_STORE_TOKEN* env). */
  tokenFile?: string;
  /** PEM certificate chain and key: serve TLS. Both or neither. */
  tlsCert?: string;
  tlsKey?: string;
}

/** What the server will demand, settled before anything is opened. */
interface Access {
  token: string | undefined;
  tls: ServerTls | undefined;
}

function accessFor(options: RunServerOptions): Access {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  const token = storeTokenFrom(options.tokenFile);
  const tls =
    options.tlsCert !== undefined && options.tlsKey !== undefined
      ? readTlsFiles(options.tlsCert, options.tlsKey)
      : undefined;
  if (!isLocalAddress(options.listen)) {
    if (token === undefined) {
      throw new Error(
        `refusing to listen on ${options.listen} without authentication: any peer that can reach ` +
          'it could read and write every thread. Give a token with --token-file (or ' +
          'SKEIN_STORE_TOKEN_FILE / SKEIN_STORE_TOKEN), or listen on 127.0.0.1',
      );
    }
    if (tls === undefined) {
      process.stderr.write(
        `warning: listening on ${options.listen} without TLS: the token and every thread cross the network in clear; give --tls-cert and --tls-key\n`,
      );
    }
  }
  return { token, tls };
}

/** Opens the store, serves it, and resolves once a signal has shut both down. */
export async function runServer(options: RunServerOptions): Promise<void> {
  const access = accessFor(options);
  const opened = await openThreadStore(options.store, {
    home: {
      defaultModelProvider: options.defaultProvider,
      waitForIndex: true,
      warn: (message) => process.stderr.write(`warning: ${message}\n`),
      onIndexUnavailable: (reason) =>
        process.stderr.write(`warning: ${reason}; serving from the rollout files (slower)\n`),
    },
    postgres: {
      defaultModelProvider: options.defaultProvider,
      onPoolError: (error) =>
        process.stderr.write(`postgres connection dropped: ${error.message}\n`),
    },
  });
  let server: Awaited<ReturnType<typeof serveThreadStore>>;
  try {
    server = await serveThreadStore(opened.store, options.listen, {
      ...(access.token === undefined ? {} : { token: access.token }),
      ...(access.tls === undefined ? {} : { tls: access.tls }),
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  process.stdout.write(
    `${JSON.stringify({
      listening: server.address,
      store: opened.kind,
      auth: access.token === undefined ? 'none' : 'token',
      tls: access.tls !== undefined,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await opened.close();
}
