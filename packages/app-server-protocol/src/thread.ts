/**
 * The wire `Thread` object (spec §3) in 0.169.0's field order. Fields Skein has nothing behind
 * (sections, projects, environments of unloaded threads, daybreak, extra) carry the neutral
 * value the binary itself sends for them: `null`.
 */
import type { SessionSource, StoredThread } from '@skein/thread-store';
import type { WireTurn } from './turns.js';

/**
 * A thread's status on the wire: `notLoaded`, `idle`, `systemError`, or `active` with its flags.
 */
export type WireThreadStatus =
  | { type: 'notLoaded' }
  | { type: 'idle' }
  | { type: 'systemError' }
  | { type: 'active'; activeFlags: string[] };

/** A thread's source on the wire (camelCase variants, as 0.169 serializes them). */
export type WireSessionSource =
  | 'cli'
  | 'vscode'
  | 'exec'
  | 'appServer'
  | 'unknown'
  | { custom: string }
  | { subAgent: unknown };

/** A thread's git facts on the wire. */
export interface WireGitInfo {
  sha: string | null;
  branch: string | null;
  originUrl: string | null;
}

/** A loaded thread's environment on the wire. */
export interface WireThreadEnvironment {
  environmentId: string;
  cwd: string;
  runtimeWorkspaceRoots: string[];
}

/**
 * The app-server's `Thread` object, every field in 0.169's order (the experimental ones included).
 */
export interface WireThread {
  id: string;
  environments: WireThreadEnvironment[] | null;
  extra: null;
  sessionId: string;
  forkedFromId: string | null;
  attachedToThreadId: string | null;
  parentThreadId: string | null;
  preview: string;
  ephemeral: boolean;
  section: null;
  sectionEnteredAt: number | null;
  projectId: string | null;
  historyMode: 'legacy' | 'paginated';
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  createdAt: number;
  updatedAt: number;
  recencyAt: number | null;
  status: WireThreadStatus;
  path: string | null;
  cwd: string;
  cliVersion: string;
  originator: string | null;
  source: WireSessionSource;
  canAcceptDirectInput: boolean | null;
  threadSource: string | null;
  agentNickname: string | null;
  agentRole: string | null;
  gitInfo: WireGitInfo | null;
  name: string | null;
  daybreakEnabled: boolean | null;
  turns: WireTurn[];
}

/** Everything the wire Thread is built from; loaded threads fill the live-only fields. */
export interface ThreadFacts {
  id: string;
  sessionId: string;
  forkedFromId: string | null;
  parentThreadId: string | null;
  preview: string;
  ephemeral: boolean;
  historyMode: 'legacy' | 'paginated';
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  recencyAtMs: number | null;
  path: string | null;
  cwd: string;
  cliVersion: string;
  originator: string | null;
  source: WireSessionSource;
  threadSource: string | null;
  agentNickname: string | null;
  agentRole: string | null;
  gitInfo: WireGitInfo | null;
  name: string | null;
  /** Live only: the loaded thread's environment. */
  environments: WireThreadEnvironment[] | null;
  /** Live only: `true` for an ordinary loaded thread, `null` when unloaded and in lists. */
  canAcceptDirectInput: boolean | null;
}

/** Milliseconds to the wire's unix seconds (floor). */
export const toSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Store `SessionSource` (disk encoding) → wire `SessionSource`. */
export function wireSessionSource(source: SessionSource): WireSessionSource {
  if (typeof source === 'string') {
    if (source === 'mcp') return 'appServer';
    if (source === 'cli' || source === 'vscode' || source === 'exec') return source;
    return 'unknown';
  }
  if ('custom' in source) return { custom: source.custom };
  if ('subagent' in source) return { subAgent: source.subagent };
  return 'unknown';
}

/** A stored thread's git facts on the wire (null when nothing is known). */
export function wireGitInfo(
  git: { commitHash: string | null; branch: string | null; repositoryUrl: string | null } | null,
): WireGitInfo | null {
  if (git === null) return null;
  if (git.commitHash === null && git.branch === null && git.repositoryUrl === null) return null;
  return { sha: git.commitHash, branch: git.branch, originUrl: git.repositoryUrl };
}

/** The facts of a stored (cold) thread. */
export function storedThreadFacts(stored: StoredThread): ThreadFacts {
  const originator = stored.originator;
  return {
    id: stored.threadId,
    sessionId: stored.threadId,
    forkedFromId: stored.forkedFromId,
    parentThreadId: stored.parentThreadId,
    preview: stored.preview,
    ephemeral: false,
    historyMode: stored.historyMode,
    modelProvider: stored.modelProvider,
    model: stored.model,
    reasoningEffort: stored.reasoningEffort,
    createdAtMs: stored.createdAtMs,
    updatedAtMs: stored.updatedAtMs,
    recencyAtMs: stored.recencyAtMs,
    path: stored.rolloutPath,
    cwd: stored.cwd,
    cliVersion: stored.cliVersion,
    originator: originator === undefined || originator === '' ? null : originator,
    source: wireSessionSource(stored.source),
    threadSource: stored.threadSource,
    agentNickname: stored.agentNickname,
    agentRole: stored.agentRole,
    gitInfo: wireGitInfo(stored.gitInfo),
    name: stored.name,
    environments: null,
    canAcceptDirectInput: null,
  };
}

/** A stored thread as `thread/list` and `thread/read` report it when no one has it loaded. */
export function storedWireThread(stored: StoredThread): WireThread {
  return buildThread(storedThreadFacts(stored), { type: 'notLoaded' });
}

/**
 * The `Thread` fields 0.169.0 always sends although only its experimental schema defines them
 * (spec §0.3); the stable schema (`generate-json-schema`, `generate-ts`) leaves them out.
 */
export const EXPERIMENTAL_THREAD_FIELDS = [
  'environments',
  'extra',
  'attachedToThreadId',
  'canAcceptDirectInput',
  'daybreakEnabled',
] as const;

/**
 * A `Thread` without the fields only the experimental schema defines (what stable clients read).
 */
export type StableWireThread = Omit<WireThread, (typeof EXPERIMENTAL_THREAD_FIELDS)[number]>;

/** The thread as the stable protocol defines it (field order kept), for tools typed on it. */
export function stableThread(thread: WireThread): StableWireThread {
  const stable: Record<string, unknown> = { ...thread };
  for (const field of EXPERIMENTAL_THREAD_FIELDS) delete stable[field];
  return stable as unknown as StableWireThread;
}

/** A `Thread` from a thread's facts, its status and (for `includeTurns`) its turns. */
export function buildThread(
  facts: ThreadFacts,
  status: WireThreadStatus,
  turns: WireTurn[] = [],
): WireThread {
  return {
    id: facts.id,
    environments: facts.environments,
    extra: null,
    sessionId: facts.sessionId,
    forkedFromId: facts.forkedFromId,
    attachedToThreadId: null,
    parentThreadId: facts.parentThreadId,
    preview: facts.preview,
    ephemeral: facts.ephemeral,
    section: null,
    sectionEnteredAt: null,
    projectId: null,
    historyMode: facts.historyMode,
    modelProvider: facts.modelProvider,
    model: facts.model,
    reasoningEffort: facts.reasoningEffort,
    createdAt: toSeconds(facts.createdAtMs),
    updatedAt: toSeconds(facts.updatedAtMs),
    recencyAt: facts.recencyAtMs === null ? null : toSeconds(facts.recencyAtMs),
    status,
    path: facts.path,
    cwd: facts.cwd,
    cliVersion: facts.cliVersion,
    originator: facts.originator,
    source: facts.source,
    canAcceptDirectInput: facts.canAcceptDirectInput,
    threadSource: facts.threadSource,
    agentNickname: facts.agentNickname,
    agentRole: facts.agentRole,
    gitInfo: facts.gitInfo,
    name: facts.name,
    daybreakEnabled: null,
    turns,
  };
}
