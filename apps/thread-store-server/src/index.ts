/**
 * The thread-store server as a library: `runServer` opens one store (a Codex home or
 * PostgreSQL) and serves it over gRPC until SIGINT/SIGTERM; `openHomeStore` is how it opens a
 * home. The `skein-thread-store-server` bin (`dist/main.js`) is the standalone program.
 */
export { openHomeStore } from './home.js';
export { type RunServerOptions, runServer } from './server.js';
