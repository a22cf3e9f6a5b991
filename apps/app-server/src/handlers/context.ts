/** What every handler works with: the process-wide store and manager, and server facts. */

import type { WireThreadStatus } from '@skein/app-server-protocol';
import type { ThreadManager } from '@skein/thread-manager';
import type {
  SessionSource,
  ThreadHistoryMode,
  ThreadSource,
  ThreadStore,
} from '@skein/thread-store';
import type { SessionConfig } from '../config.js';
import type { AppServer } from '../server/app-server.js';
import type { RecordedSettings } from './session.js';

/** The read-only view of a loaded thread the handlers need (the manager's LoadedThread). */
export interface LiveThreadView {
  readonly threadId: string;
  readonly sessionId: string;
  readonly ephemeral: boolean;
  readonly forkedFromId: string | null;
  readonly parentThreadId: string | null;
  readonly cwd: string;
  readonly modelProvider: string;
  readonly model: string | null;
  readonly reasoningEffort: string | null;
  readonly source: SessionSource;
  readonly threadSource: ThreadSource | null;
  readonly originator: string;
  readonly historyMode: ThreadHistoryMode;
  readonly rolloutPath: string | null;
  readonly name: string | null;
  readonly hasUserMessage: boolean;
  /** Creation time: the stored one for resumed threads, the load time for new ones (ms). */
  readonly createdAtMs: number;
  readonly loadedAtMs: number;
  readonly materialized: boolean;
}

export interface HandlerContext {
  readonly server: AppServer;
  readonly store: ThreadStore;
  readonly manager: ThreadManager;
  readonly codexHome: string;
  /** The server process cwd: relative `cwd` params resolve against it. */
  readonly cwd: string;
  /** `model_provider` of config.toml (default `openai`): the default `thread/list` filter. */
  readonly defaultModelProvider: string;
  /** Whether a thread may run on this provider (built in, or a table of config.toml). */
  modelProviderConfigured(provider: string): boolean;
  readonly cliVersion: string;
  /** `model` of config.toml, when set. */
  readonly defaultModel: string | null;
  /** The session settings of config.toml that start/resume/fork results echo. */
  readonly session: SessionConfig;
  /**
   * What each loaded thread's session started from: the settings its history recorded when it
   * was loaded (none for a started thread). A resume of a loaded thread answers its live
   * session, not settings recorded since (0.169.0). Dropped when the thread unloads.
   */
  readonly loadedSettings: Map<string, RecordedSettings | undefined>;
  statusOf(threadId: string): WireThreadStatus;
  loadedThreadIds(): readonly string[];
  loaded(threadId: string): LiveThreadView | undefined;
}
