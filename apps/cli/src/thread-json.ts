import type { SessionSource, StoredThread } from '@skein/thread-store';

/** The app-server's wire encoding of a session source (`mcp` is `appServer` there). */
export type WireSessionSource =
  | 'cli'
  | 'vscode'
  | 'exec'
  | 'appServer'
  | 'unknown'
  | { custom: string }
  | { subAgent: unknown };

/**
 * A thread as the app-server's `Thread` object (spec manager-appserver §3): the same field
 * names and order, so `skein list --json` output can be fed to tools written against
 * `thread/list`. Experimental-only fields are left out, as a client without
 * `experimentalApi` sees them. The CLI never loads threads, so `status` is `notLoaded`.
 */
export interface ThreadJson {
  id: string;
  sessionId: string;
  forkedFromId: string | null;
  parentThreadId: string | null;
  preview: string;
  ephemeral: false;
  section: null;
  sectionEnteredAt: null;
  projectId: null;
  historyMode: string;
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  createdAt: number;
  updatedAt: number;
  recencyAt: number | null;
  status: { type: 'notLoaded' };
  path: string | null;
  cwd: string;
  cliVersion: string;
  originator: string | null;
  source: WireSessionSource;
  threadSource: string | null;
  agentNickname: string | null;
  agentRole: string | null;
  gitInfo: { sha: string | null; branch: string | null; originUrl: string | null } | null;
  name: string | null;
  turns: [];
}

export function toWireSource(source: SessionSource): WireSessionSource {
  if (typeof source === 'string') {
    if (source === 'mcp') return 'appServer';
    return source;
  }
  if ('custom' in source) return { custom: source.custom };
  if ('subagent' in source) return { subAgent: source.subagent };
  return 'unknown';
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

export function toThreadJson(thread: StoredThread): ThreadJson {
  const git = thread.gitInfo;
  const gitInfo =
    git && (git.commitHash !== null || git.branch !== null || git.repositoryUrl !== null)
      ? { sha: git.commitHash, branch: git.branch, originUrl: git.repositoryUrl }
      : null;
  return {
    id: thread.threadId,
    sessionId: thread.threadId,
    forkedFromId: thread.forkedFromId,
    parentThreadId: thread.parentThreadId,
    preview: thread.preview,
    ephemeral: false,
    section: null,
    sectionEnteredAt: null,
    projectId: null,
    historyMode: thread.historyMode,
    modelProvider: thread.modelProvider,
    model: thread.model,
    reasoningEffort: thread.reasoningEffort,
    createdAt: seconds(thread.createdAtMs),
    updatedAt: seconds(thread.updatedAtMs),
    recencyAt: thread.recencyAtMs > 0 ? seconds(thread.recencyAtMs) : null,
    status: { type: 'notLoaded' },
    path: thread.rolloutPath,
    cwd: thread.cwd,
    cliVersion: thread.cliVersion,
    originator: null,
    source: toWireSource(thread.source),
    threadSource: thread.threadSource,
    agentNickname: thread.agentNickname,
    agentRole: thread.agentRole,
    gitInfo,
    name: thread.name,
    turns: [],
  };
}

/** What a person calls a thread: its name, else its preview, else its id. */
export function displayTitle(thread: StoredThread): string {
  if (thread.name) return thread.name;
  if (thread.preview) return thread.preview;
  return thread.threadId;
}
