/**
 * The app-server as a library, for embedding it in another process: `createAppServer` over a
 * store and a manager the caller built once, served by `serveStdio` or `serveWebSocket`. The
 * `skein-app-server` bin (`dist/main.js`) is the standalone program.
 */
export { type AppServerOptions, createAppServer } from './app.js';
export { readServerConfig, type ServerConfig, type SessionConfig } from './config.js';
export { AppServer } from './server/app-server.js';
export {
  parseListenUrl,
  serveStdio,
  serveWebSocket,
  type WebSocketListener,
} from './server/transports.js';
export { CODEX_PROTOCOL_VERSION, SKEIN_APP_SERVER_VERSION } from './version.js';
