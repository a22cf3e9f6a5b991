#!/usr/bin/env node
/**
 * skein-thread-store-server: serves one ThreadStore over gRPC (`codex.thread_store.v1`).
 *
 *   node apps/thread-store-server/dist/main.js --listen 127.0.0.1:PORT --store <home | postgres://…>
 *
 * The store is built once for the process. On start it prints one JSON line to stdout,
 * `{"listening":"127.0.0.1:PORT","store":"postgres","auth":"none","tls":false}`, so a
 * supervisor (or a test) knows the bound port when it asked for port 0. SIGINT/SIGTERM drain
 * calls and close the store.
 *
 * Private by default (ARCHITECTURE decision 7): with a token (`--token-file`, or
 * `SKEIN_STORE_TOKEN_FILE` / `SKEIN_STORE_TOKEN`) every call must carry
 * `authorization: Bearer <token>`; an address other than loopback is refused without one.
 * `--tls-cert` / `--tls-key` serve TLS (clients use `grpcs://`).
 */
import { Command } from 'commander';
import { type RunServerOptions, runServer } from './server.js';

const program = new Command()
  .name('skein-thread-store-server')
  .description('Serve a Skein thread store over gRPC (codex.thread_store.v1)')
  .requiredOption(
    '--listen <host:port>',
    'address to listen on, e.g. 127.0.0.1:50051 (port 0 = any)',
  )
  .requiredOption(
    '--store <spec>',
    'the store: a Codex home path, postgres://user@host:port/db, or grpc://host:port',
  )
  .option('--default-provider <id>', 'model provider for threads that lack one', 'openai')
  .option(
    '--token-file <path>',
    'file holding the bearer token every call must present (default: $SKEIN_STORE_TOKEN_FILE or $SKEIN_STORE_TOKEN; required off loopback)',
  )
  .option('--tls-cert <path>', 'PEM certificate chain: serve TLS (with --tls-key)')
  .option('--tls-key <path>', 'PEM private key of --tls-cert')
  .action(async (options: RunServerOptions) => {
    try {
      await runServer(options);
    } catch (error) {
      process.stderr.write(
        `skein-thread-store-server: ${(error as Error).message ?? String(error)}\n`,
      );
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
