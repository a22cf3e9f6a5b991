/**
 * The thread-store server as a library: `runServer` opens one store (a Codex home or
 * PostgreSQL, through `openThreadStore` of `@skein/thread-stores`) and serves it over gRPC until
 * SIGINT/SIGTERM. The `skein-thread-store-server` bin (`dist/main.js`) is the standalone program.
 */
export { openHomeStore } from '@skein/thread-stores';
export { type RunServerOptions, runServer } from './server.js';
