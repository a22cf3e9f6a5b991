import type { ThreadId } from './thread-id.js';

/**
 * One thread's row in the state index, in Skein's names (camelCase, times in integer ms).
 * This is the shape metadata extraction (rollout) produces, every query (state) takes and
 * returns, and the stores map to their answers; columns follow Codex's `threads` table (spec
 * rollout-state §5.2).
 */
export interface ThreadMetadata {
  id: ThreadId;
  /** Absolute path of the rollout file (the logical plain `.jsonl` path). */
  rolloutPath: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Product recency: advanced by turn starts, not output. 0 on input means "use updatedAtMs". */
  recencyAtMs: number;
  /** SessionSource encoded as Codex stores it: a plain string for unit variants, else compact JSON. */
  source: string;
  threadSource: string | null;
  agentNickname: string | null;
  agentRole: string | null;
  agentPath: string | null;
  modelProvider: string;
  model: string | null;
  reasoningEffort: string | null;
  cwd: string;
  cliVersion: string;
  /** First user message text, or an explicit title. */
  title: string;
  /** Explicit user-facing name (set by rename); never derived from history. */
  name: string | null;
  /** List visibility key: a thread with an empty preview is hidden from lists. */
  preview: string;
  /** '' = none. */
  firstUserMessage: string;
  /** The effective permission profile as JSON (how Codex 0.169 stores it). */
  sandboxPolicy: string;
  /**
   * The legacy `SandboxPolicy` JSON of the latest turn context (`{"type":"read-only"}`), which
   * a Codex 0.131 DB stores instead; absent when the rollout carries none.
   */
  sandboxPolicyLegacy?: string | null;
  approvalMode: string;
  tokensUsed: number;
  archived: boolean;
  archivedAtMs: number | null;
  gitSha: string | null;
  gitBranch: string | null;
  gitOriginUrl: string | null;
  memoryMode: ThreadMemoryModeValue;
  parentThreadId: ThreadId | null;
  forkedFromId: ThreadId | null;
  historyMode: ThreadHistoryModeValue;
  originator: string | null;
}

/**
 * A thread's memory mode as stored (`polluted`: Codex's mark for a thread whose memories must not
 * be used).
 */
export type ThreadMemoryModeValue = 'enabled' | 'disabled' | 'polluted';
/** A thread's history mode as stored: `legacy` rollouts, or Codex 0.169's `paginated` ones. */
export type ThreadHistoryModeValue = 'legacy' | 'paginated';

/** Defaults of Codex's metadata builder (spec §5.3) for a thread known only by id, path and time. */
export function defaultThreadMetadata(
  id: ThreadId,
  rolloutPath: string,
  createdAtMs: number,
  source: string,
  defaultProvider: string,
): ThreadMetadata {
  return {
    id,
    rolloutPath,
    createdAtMs,
    updatedAtMs: createdAtMs,
    recencyAtMs: 0,
    source,
    threadSource: null,
    agentNickname: null,
    agentRole: null,
    agentPath: null,
    modelProvider: defaultProvider,
    model: null,
    reasoningEffort: null,
    cwd: '',
    cliVersion: '',
    title: '',
    name: null,
    preview: '',
    firstUserMessage: '',
    sandboxPolicy: 'read-only',
    approvalMode: 'on-request',
    tokensUsed: 0,
    archived: false,
    archivedAtMs: null,
    gitSha: null,
    gitBranch: null,
    gitOriginUrl: null,
    memoryMode: 'enabled',
    parentThreadId: null,
    forkedFromId: null,
    historyMode: 'legacy',
    originator: null,
  };
}
