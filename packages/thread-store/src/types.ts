/**
 * Parameter and result types of the ThreadStore boundary (spec thread-store §3), in Skein's
 * names: camelCase fields, times as integer milliseconds since the epoch (`*Ms`), paths as
 * absolute strings. Optional Rust values become `T | null` in results; in parameters an
 * omitted key means "implementation default".
 *
 * Tri-state fields (`ClearableField`) keep the difference between an absent key (leave the
 * value unchanged) and `null` (clear it) end to end, including through JSON.
 */
import type {
  ClearableField,
  GitInfo,
  GitInfoPatch,
  SessionSource,
  SortDirection,
  SubAgentSource,
  ThreadId,
  ThreadSortKey,
  ThreadSpawnSource,
  TurnStatus,
} from '@skein/protocol';
import type { RolloutItem } from '@skein/rollout';

/**
 * Rollout items are the rollout package's: `{type, payload}` with the snake_case kind as tag
 * (`session_meta`, `response_item`, `event_msg`, ...), and `{type: 'opaque', kind, payload}`
 * for kinds this version does not know.
 */
/** The shared vocabulary of every layer (`@skein/protocol`), part of this boundary's types. */
export type {
  ClearableField,
  GitInfo,
  GitInfoPatch,
  RolloutItem,
  SessionSource,
  SortDirection,
  SubAgentSource,
  ThreadId,
  ThreadSortKey,
  ThreadSpawnSource,
};

/** A JSON value carried opaquely (permission profiles, dynamic tool specs, ...). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------
// §3.1 enums

/**
 * How a thread's history is written: `legacy` rollouts, or Codex 0.169's `paginated` ones
 * (ordinals plus a projection into `thread_history_1.sqlite`).
 */
export type ThreadHistoryMode = 'legacy' | 'paginated';
/** Whether Codex may use a thread for memories. */
export type ThreadMemoryMode = 'enabled' | 'disabled';
/**
 * Analytics classification of a thread, as written in `session_meta.thread_source`: Codex's
 * kinds, or a client's own label (0.169 keeps a custom one, e.g. `nightly-digest`).
 */
export type ThreadSource = 'user' | 'subagent' | 'memory_consolidation' | (string & {});
/** How much of a turn's items `listTurns` returns: none, display summary items, or all. */
export type StoredTurnItemsView = 'notLoaded' | 'summary' | 'full';
/**
 * A turn's outcome: completed, interrupted, failed, or still in progress. The store's name for
 * protocol's `TurnStatus` (the one `segmentTurns` gives), declared there once.
 */
export type StoredTurnStatus = TurnStatus;

/** Lists only the direct children, or all descendants, of a thread in the spawn tree. */
export type ThreadRelationFilter =
  | { readonly kind: 'directChildrenOf'; readonly threadId: ThreadId }
  | { readonly kind: 'descendantsOf'; readonly threadId: ThreadId };

// ---------------------------------------------------------------------------------------------
// Shared value types

/** Token counts of a thread, as Codex records them. */
export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}

/** Reserved for extra per-thread configuration; empty today. */
export type ExtraConfig = Record<string, never>;

/** The base instructions a thread was created with (recorded in its `session_meta`). */
export interface BaseInstructions {
  text: string;
}

/** Approval policy as Codex writes it (`untrusted`, `on-failure`, `on-request`, `never`). */
export type AskForApproval = string;
/** Reasoning effort as Codex writes it (`minimal`, `low`, `medium`, `high`, ...). */
export type ReasoningEffort = string;
/** A permission profile, carried as its JSON value. */
export type PermissionProfile = JsonValue;

// ---------------------------------------------------------------------------------------------
// §3.5 the metadata patch

/**
 * A literal metadata patch: every present key is applied as is. Fields typed
 * `ClearableField` may be `null` (clear); the others are plain optionals (absent = unchanged).
 */
export interface ThreadMetadataPatch {
  name?: ClearableField<string>;
  rolloutPath?: string;
  preview?: string;
  title?: string;
  modelProvider?: string;
  model?: string;
  reasoningEffort?: ReasoningEffort;
  createdAtMs?: number;
  updatedAtMs?: number;
  /** Move recency forward to at least this time (monotonic max). */
  advanceRecencyAtMs?: number;
  source?: SessionSource;
  threadSource?: ClearableField<ThreadSource>;
  agentNickname?: ClearableField<string>;
  agentRole?: ClearableField<string>;
  agentPath?: ClearableField<string>;
  cwd?: string;
  cliVersion?: string;
  approvalMode?: AskForApproval;
  permissionProfile?: PermissionProfile;
  tokenUsage?: TokenUsage;
  firstUserMessage?: string;
  gitInfo?: GitInfoPatch;
  memoryMode?: ThreadMemoryMode;
  historyMode?: ThreadHistoryMode;
}

// ---------------------------------------------------------------------------------------------
// §3.2 parameters

/** Thread-scoped facts supplied when live persistence opens. */
export interface ThreadPersistenceMetadata {
  /** `null` = no filesystem context. The local store requires a cwd. */
  cwd: string | null;
  modelProvider: string;
  memoryMode: ThreadMemoryMode;
}

/**
 * `createThread`: a new thread's id (the caller makes it), source, originator, history mode,
 * lineage (fork, sub-agent parent, paginated fork base) and the facts its writer records.
 */
export interface CreateThreadParams {
  threadId: ThreadId;
  /**
   * When the thread was created (ms since the epoch); the store's clock when absent. One time
   * for the rollout's session meta and the row, so a thread never moves in created order after
   * it was first listed (`LiveThread.create` sets it).
   */
  createdAtMs?: number | undefined;
  /** Shared by a root thread and its sub-agents; defaults to the thread id. */
  sessionId?: string | undefined;
  extraConfig?: ExtraConfig | null | undefined;
  forkedFromId?: ThreadId | null | undefined;
  parentThreadId?: ThreadId | null | undefined;
  source: SessionSource;
  threadSource?: ThreadSource | null | undefined;
  originator: string;
  /**
   * Recorded as the thread's `cli_version` (session meta and DB row): the Codex version whose
   * format the caller writes. Default: `SKEIN_CLI_VERSION`.
   */
  cliVersion?: string | undefined;
  baseInstructions?: BaseInstructions | null | undefined;
  /** Dynamic tool specs, carried as JSON (`{name, description, input_schema, ...}`). */
  dynamicTools?: readonly JsonValue[] | undefined;
  selectedCapabilityRoots?: readonly JsonValue[] | undefined;
  multiAgentVersion?: string | null | undefined;
  /** Defaults to `legacy`. */
  historyMode?: ThreadHistoryMode | undefined;
  /**
   * A paginated fork by reference (Codex 0.169): the source's history up to this point is the
   * fork's, read through the source; nothing of it is copied. See `ThreadStore.forkBase`.
   */
  historyBase?: HistoryBaseRef | null | undefined;
  initialWindowId?: string | null | undefined;
  metadata: ThreadPersistenceMetadata;
}

/** Where a fork by reference's inherited history ends, in its source thread's own file. */
export interface HistoryBaseRef {
  threadId: ThreadId;
  endOrdinalExclusive: number;
  endByteOffset: number;
}

/**
 * `resumeThread`: the thread (optionally its known rollout path or already-loaded history) and the
 * facts future writes record.
 */
export interface ResumeThreadParams {
  threadId: ThreadId;
  /** A known rollout file (it may lie outside the Codex home). */
  rolloutPath?: string | null | undefined;
  /** Replay history the caller already loaded. */
  history?: readonly RolloutItem[] | null | undefined;
  includeArchived?: boolean | undefined;
  /** Applies to future writes. */
  metadata: ThreadPersistenceMetadata;
}

/**
 * `appendItems`: raw items for a thread's live writer, in order; the store applies the persistence
 * policy.
 */
export interface AppendThreadItemsParams {
  threadId: ThreadId;
  /** Raw items in order; the store applies the persistence policy. */
  items: readonly RolloutItem[];
}

/** `loadHistory`: the thread, and whether an archived one may be read. */
export interface LoadThreadHistoryParams {
  threadId: ThreadId;
  includeArchived?: boolean | undefined;
}

/** `readThread`: the thread, whether archived ones count, and whether to include the history. */
export interface ReadThreadParams {
  threadId: ThreadId;
  includeArchived?: boolean | undefined;
  includeHistory?: boolean | undefined;
}

/**
 * `readThreadByRolloutPath` (deprecated): a rollout path, absolute or relative to the Codex home.
 */
export interface ReadThreadByRolloutPathParams {
  /** Absolute, or relative to the Codex home. */
  rolloutPath: string;
  includeArchived?: boolean | undefined;
  includeHistory?: boolean | undefined;
}

/**
 * `listThreads`: page size and cursor, sort, and `thread/list`'s filters (sources, providers,
 * cwds, archived, search, relation).
 */
export interface ListThreadsParams {
  pageSize: number;
  /** Opaque; taken from an earlier page's `nextCursor` (or `backwardsCursor`). */
  cursor?: string | null | undefined;
  /** Defaults to `createdAt`. */
  sortKey?: ThreadSortKey | undefined;
  /** Defaults to `desc` (newest first). */
  sortDirection?: SortDirection | undefined;
  /** Empty or absent = implementation default. */
  allowedSources?: readonly SessionSource[] | undefined;
  /** Absent/null = implementation default; empty = all providers. */
  modelProviders?: readonly string[] | null | undefined;
  /** Absent/null = all directories; empty = matches nothing. */
  cwdFilters?: readonly string[] | null | undefined;
  /** List the archived collection instead of the active one. */
  archived?: boolean | undefined;
  searchTerm?: string | null | undefined;
  relationFilter?: ThreadRelationFilter | null | undefined;
  /** Answer from the state DB only, without scanning rollouts to repair metadata. */
  useStateDbOnly?: boolean | undefined;
}

/** `searchThreads`: a required search term, paging, sort and source filters. */
export interface SearchThreadsParams {
  pageSize: number;
  cursor?: string | null | undefined;
  sortKey?: ThreadSortKey | undefined;
  sortDirection?: SortDirection | undefined;
  allowedSources?: readonly SessionSource[] | undefined;
  archived?: boolean | undefined;
  /** Required: visible content to search for. */
  searchTerm: string;
}

/** `listTurns`: a thread's turns, paged, with how much of each turn's items to include. */
export interface ListTurnsParams {
  threadId: ThreadId;
  includeArchived?: boolean | undefined;
  cursor?: string | null | undefined;
  pageSize: number;
  /** Defaults to `asc` (oldest turn first). */
  sortDirection?: SortDirection | undefined;
  /** Defaults to `summary`. */
  itemsView?: StoredTurnItemsView | undefined;
}

/** `listItems`: a thread's (or one turn's) items, paged. */
export interface ListItemsParams {
  threadId: ThreadId;
  /** Absent = the whole thread. */
  turnId?: string | null | undefined;
  includeArchived?: boolean | undefined;
  cursor?: string | null | undefined;
  pageSize: number;
  sortDirection?: SortDirection | undefined;
}

/**
 * `updateThreadMetadata`: the thread, a literal patch, and whether an archived thread may be
 * patched.
 */
export interface UpdateThreadMetadataParams {
  threadId: ThreadId;
  patch: ThreadMetadataPatch;
  includeArchived?: boolean | undefined;
}

/** `archiveThread` / `unarchiveThread`: the thread. */
export interface ArchiveThreadParams {
  threadId: ThreadId;
}

/** `deleteThread`: the thread. */
export interface DeleteThreadParams {
  threadId: ThreadId;
}

// ---------------------------------------------------------------------------------------------
// §3.3 results

/** A thread's persisted history: every item in replay order, its `session_meta` included. */
export interface StoredThreadHistory {
  threadId: ThreadId;
  /** Every persisted item in replay order (the session meta included). */
  items: RolloutItem[];
}

/** Store-owned metadata for list, read and resume. */
export interface StoredThread {
  threadId: ThreadId;
  extraConfig: ExtraConfig | null;
  /** The logical plain `.jsonl` path (even for `.jsonl.zst`); `null` for pathless stores. */
  rolloutPath: string | null;
  forkedFromId: ThreadId | null;
  parentThreadId: ThreadId | null;
  /** Best available preview, usually the first user message; `''` if none. */
  preview: string;
  name: string | null;
  modelProvider: string;
  model: string | null;
  reasoningEffort: ReasoningEffort | null;
  createdAtMs: number;
  updatedAtMs: number;
  /** Product recency: advanced by turn starts, not by output. */
  recencyAtMs: number;
  archivedAtMs: number | null;
  cwd: string;
  cliVersion: string;
  source: SessionSource;
  historyMode: ThreadHistoryMode;
  threadSource: ThreadSource | null;
  agentNickname: string | null;
  agentRole: string | null;
  agentPath: string | null;
  gitInfo: GitInfo | null;
  approvalMode: AskForApproval;
  permissionProfile: PermissionProfile;
  tokenUsage: TokenUsage | null;
  firstUserMessage: string | null;
  /**
   * The client that created the thread (`session_meta.originator`, e.g. `codex_cli_rs`); absent
   * or null when the store does not know it.
   */
  originator?: string | null;
  /** Set only when requested. */
  history: StoredThreadHistory | null;
}

/**
 * A page of `listThreads`: threads, the cursor of the next page, and one back towards the start.
 */
export interface ThreadPage {
  items: StoredThread[];
  nextCursor: string | null;
  /** A cursor that pages back towards the start (the first item's position); null on page 1. */
  backwardsCursor?: string | null;
}

/** A search hit: the thread and a snippet around the match. */
export interface StoredThreadSearchResult {
  thread: StoredThread;
  snippet: string;
}

/** A page of `searchThreads`: hits and the cursor of the next page. */
export interface ThreadSearchPage {
  items: StoredThreadSearchResult[];
  nextCursor: string | null;
}

/** Why a turn failed: the message and any further details. */
export interface StoredTurnError {
  message: string;
  additionalDetails: string | null;
}

/** A turn as stored: id, items (per the requested view), status, error, and its times. */
export interface StoredTurn {
  turnId: string;
  /** Per `itemsView`: none, display summary items, or every persisted item. */
  items: RolloutItem[];
  metadataJson: string | null;
  turnCreatedAtMs: number | null;
  itemsView: StoredTurnItemsView;
  status: StoredTurnStatus;
  error: StoredTurnError | null;
  /** Unix seconds. */
  startedAt: number | null;
  /** Unix seconds. */
  completedAt: number | null;
  durationMs: number | null;
}

/** A page of `listTurns`: turns, and cursors forward and back. */
export interface TurnPage {
  turns: StoredTurn[];
  nextCursor: string | null;
  backwardsCursor: string | null;
}

/** One item of a paginated history: turn, key, ordinal, time and the item as JSON. */
export interface StoredThreadItem {
  turnId: string | null;
  itemKey: string;
  itemOrdinal: number;
  itemCreatedAtMs: number | null;
  /** The item as JSON text. */
  materializedThreadItemJson: string;
}

/** A page of `listItems`: items, and cursors forward and back. */
export interface ItemPage {
  items: StoredThreadItem[];
  nextCursor: string | null;
  backwardsCursor: string | null;
}

/**
 * A thread's read receipt as Codex 0.169 reports it: `firstUnread` null when read, the thread
 * start when marked unread, or the first unread turn; `revision` changes with every write
 * (`initial:<threadId>` while the thread has no receipt).
 */
export interface ThreadReadState {
  firstUnread: null | { type: 'threadStart' } | { type: 'turn'; turnId: string };
  revision: string;
}

/**
 * `updateReadState`: mark a thread read or unread, if its receipt is still at `expectedRevision`.
 */
export interface UpdateReadStateParams {
  threadId: ThreadId;
  operation: 'read' | 'unread';
  /** The revision the caller last saw; a different current revision fails `Conflict`. */
  expectedRevision: string | null;
}
