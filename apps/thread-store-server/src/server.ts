import { openThreadStore, serveThreadStore } from '@skein/thread-store-remote';
import { openHomeStore } from './home.js';

/**
 * `runServer`'s options: the `host:port` to listen on, the store spec (a Codex home path,
 * `postgres://…` or `grpc://host:port`), and the provider of threads that name none.
 */
export interface RunServerOptions {
  listen: string;
  store: string;
  defaultProvider: string;
}

/** Opens the store, serves it, and resolves once a signal has shut both down. */
export async function runServer(options: RunServerOptions): Promise<void> {
  const host = options.listen.slice(0, options.listen.lastIndexOf(':'));
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    process.stderr.write(
      `warning: listening on ${host} without TLS or authentication; any peer that can reach it can read and write threads\n`,
    );
  }
  const opened = await openThreadStore(options.store, {
    openHome: (home) => openHomeStore(home, options.defaultProvider),
    postgres: {
      defaultModelProvider: options.defaultProvider,
      onPoolError: (error) =>
        process.stderr.write(`postgres connection dropped: ${error.message}\n`),
    },
  });
  let server: Awaited<ReturnType<typeof serveThreadStore>>;
  try {
    server = await serveThreadStore(opened.store, options.listen);
  } catch (error) {
    await opened.close();
    throw error;
  }
  process.stdout.write(`${JSON.stringify({ listening: server.address, store: opened.kind })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await opened.close();
}
