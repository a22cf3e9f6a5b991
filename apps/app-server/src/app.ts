/**
 * Assembles the app-server over one ThreadStore and one ThreadManager (built by the caller,
 * once per process): the method table, the manager events that become broadcast
 * notifications, and dropping a closed connection's subscriptions.
 */

import type { WireThreadStatus } from '@skein/app-server-protocol';
import type { ThreadManager } from '@skein/thread-manager';
import type { ThreadStore } from '@skein/thread-store';
import type { SessionConfig } from './config.js';
import type { HandlerContext } from './handlers/context.js';
import { threadMethods } from './handlers/index.js';
import { AppServer } from './server/app-server.js';
import { CODEX_PROTOCOL_VERSION } from './version.js';

/**
 * What `createAppServer` serves: the process's one store and manager (built once by the caller),
 * the home, and the defaults `config.toml` supplies.
 */
export interface AppServerOptions {
  store: ThreadStore;
  manager: ThreadManager;
  codexHome: string;
  /** Server cwd for relative `cwd` params; default `process.cwd()`. */
  cwd?: string;
  defaultModelProvider: string;
  /**
   * The providers threads may run on (`ServerConfig.modelProviders`); start, resume and fork
   * answer 0.169.0's errors for any other. Default: every provider is accepted.
   */
  modelProviders?: ReadonlySet<string>;
  defaultModel?: string | null;
  /** config.toml's session settings (default: none set). */
  session?: SessionConfig;
  /** The version Skein reports in the user agent. */
  version: string;
  log?: (line: string) => void;
}

/**
 * Assembles the app-server over one store and one manager: the `thread/*` method table, the
 * manager events that become broadcast notifications, and dropping a closed connection's
 * subscriptions. Serve it with `serveStdio` or `serveWebSocket`.
 */
export function createAppServer(options: AppServerOptions): AppServer {
  const { manager, version } = options;
  const server = new AppServer(
    {
      codexHome: options.codexHome,
      userAgent: (name, clientVersion) =>
        `${name}/${version} (skein; ${process.platform} ${process.arch}) node/${process.versions.node} (${name}; ${clientVersion})`,
    },
    options.log,
  );
  const ctx: HandlerContext = {
    server,
    store: options.store,
    manager,
    codexHome: options.codexHome,
    cwd: options.cwd ?? process.cwd(),
    defaultModelProvider: options.defaultModelProvider,
    modelProviderConfigured: (provider) => options.modelProviders?.has(provider) ?? true,
    defaultModel: options.defaultModel ?? null,
    session: options.session ?? {
      model: options.defaultModel ?? null,
      reasoningEffort: null,
      approvalPolicy: null,
      approvalsReviewer: null,
      sandboxMode: null,
      serviceTier: null,
    },
    cliVersion: CODEX_PROTOCOL_VERSION,
    loadedSettings: new Map(),
    statusOf: (threadId) => manager.statusOf(threadId as never) as WireThreadStatus,
    loadedThreadIds: () => manager.listLoadedThreadIds(),
    loaded: (threadId) => manager.lookupThread(threadId as never),
  };
  server.setMethods(threadMethods(ctx));

  // Broadcast notifications (spec §0.4); `thread/started` is sent by the handlers themselves,
  // since they hold the full wire Thread of the response.
  manager.on('statusChanged', ({ threadId, status }) =>
    server.broadcast('thread/status/changed', { threadId, status }),
  );
  manager.on('closed', ({ threadId }) => {
    ctx.loadedSettings.delete(threadId);
    server.broadcast('thread/closed', { threadId });
  });
  manager.on('nameUpdated', ({ threadId, threadName }) =>
    server.broadcast(
      'thread/name/updated',
      threadName === null ? { threadId } : { threadId, threadName },
    ),
  );
  manager.on('archived', ({ threadId }) => server.broadcast('thread/archived', { threadId }));
  manager.on('unarchived', ({ threadId }) => server.broadcast('thread/unarchived', { threadId }));
  manager.on('deleted', ({ threadId }) => server.broadcast('thread/deleted', { threadId }));
  // Closing a connection unsubscribes it everywhere (then idle unload may close threads).
  server.onConnectionClosed((connection) => manager.removeConnection(connection.id));
  return server;
}
