/**
 * Wire schemas of every `thread/*` request's params (spec §2), as the 0.169.0 app-server
 * deserializes them: unknown keys are ignored, `null` equals absent for optional fields, and a
 * failure yields serde's wording. Experimental fields are parsed here; which ones need the
 * `experimentalApi` capability is listed in `EXPERIMENTAL_PARAMS` (the server gates them).
 */
import { SORT_DIRECTIONS, type SortDirection } from '@skein/protocol';
import type * as z from 'zod';

import {
  bool,
  clearable,
  json,
  jsonObject,
  opt,
  seq,
  str,
  struct,
  u32,
  untagged,
  variant,
} from './serde.js';
import {
  APPROVAL_POLICIES,
  APPROVALS_REVIEWERS,
  HISTORY_MODES,
  PERSONALITIES,
  SANDBOX_MODES,
  THREAD_SORT_KEYS,
  THREAD_SOURCE_KINDS,
  TURN_ITEMS_VIEWS,
} from './vocabulary.js';

// The sort directions are the shared vocabulary's (@skein/protocol); the wire's list accepts
// exactly those. Only the type is re-exported: a value re-export would make every importer of
// this package's vocabulary load @skein/protocol's schemas in a bundle.
export type { SortDirection };

const approvalPolicy = untagged<unknown>('AskForApproval', [
  variant(APPROVAL_POLICIES),
  jsonObject(),
]);

/** Per-thread config overrides shared by start, resume and fork. */
const overrides = {
  model: opt(str()),
  modelProvider: opt(str()),
  // `serviceTier: null` means "explicitly none", so keep null apart from absent.
  serviceTier: clearable(str()),
  cwd: opt(str()),
  approvalPolicy: opt(approvalPolicy),
  approvalsReviewer: opt(variant(APPROVALS_REVIEWERS)),
  sandbox: opt(variant(SANDBOX_MODES)),
  config: opt(jsonObject()),
  baseInstructions: opt(str()),
  developerInstructions: opt(str()),
  // Experimental overrides.
  runtimeWorkspaceRoots: opt(seq(str())),
  permissions: opt(json()),
};

/** Zod schema of `initialize`'s params; failures read as Codex's serde errors (`serdeMessage`). */
export const initializeParams = struct('InitializeParams', {
  clientInfo: struct('ClientInfo', {
    name: str(),
    title: opt(str()),
    version: str(),
  }),
  capabilities: opt(
    struct('InitializeCapabilities', {
      experimentalApi: opt(bool()),
      optOutNotificationMethods: opt(seq(str())),
    }),
  ),
});

/**
 * Zod schema of `thread/start`'s params; failures read as Codex's serde errors (`serdeMessage`).
 */
export const threadStartParams = struct('ThreadStartParams', {
  ...overrides,
  serviceName: opt(str()),
  personality: opt(variant(PERSONALITIES)),
  ephemeral: opt(bool()),
  sessionStartSource: opt(variant(['startup', 'clear'] as const)),
  threadSource: opt(str()),
  // Experimental.
  allowProviderModelFallback: opt(bool()),
  multiAgentMode: opt(json()),
  historyMode: opt(variant(HISTORY_MODES)),
  projectId: opt(str()),
  daybreakEnabled: opt(bool()),
  environments: opt(json()),
  dynamicTools: opt(json()),
  selectedCapabilityRoots: opt(json()),
  mockExperimentalField: opt(json()),
  experimentalRawEvents: opt(bool()),
});

const initialTurnsPage = struct('ThreadResumeInitialTurnsPage', {
  limit: opt(u32()),
  sortDirection: opt(variant(SORT_DIRECTIONS)),
  itemsView: opt(variant(TURN_ITEMS_VIEWS)),
});

/**
 * Zod schema of `thread/resume`'s params; failures read as Codex's serde errors (`serdeMessage`).
 */
export const threadResumeParams = struct('ThreadResumeParams', {
  threadId: str(),
  ...overrides,
  personality: opt(variant(PERSONALITIES)),
  excludeTurns: opt(bool()),
  // Experimental.
  history: opt(seq(json())),
  path: opt(str()),
  initialTurnsPage: opt(initialTurnsPage),
});

/** Zod schema of `thread/fork`'s params; failures read as Codex's serde errors (`serdeMessage`). */
export const threadForkParams = struct('ThreadForkParams', {
  threadId: str(),
  lastTurnId: opt(str()),
  ...overrides,
  ephemeral: opt(bool()),
  threadSource: opt(str()),
  excludeTurns: opt(bool()),
  // Experimental.
  experimentalPredictionMode: opt(json()),
  experimentalDisablePredictionMcp: opt(json()),
  beforeTurnId: opt(str()),
  path: opt(str()),
  attachToSource: opt(json()),
  deferGoalContinuation: opt(json()),
});

/** Zod schema of `thread/read`'s params; failures read as Codex's serde errors (`serdeMessage`). */
export const threadReadParams = struct('ThreadReadParams', {
  threadId: str(),
  includeTurns: opt(bool()),
});

/** Zod schema of `thread/list`'s params; failures read as Codex's serde errors (`serdeMessage`). */
export const threadListParams = struct('ThreadListParams', {
  cursor: opt(str()),
  limit: opt(u32()),
  sortKey: opt(variant(THREAD_SORT_KEYS)),
  sortDirection: opt(variant(SORT_DIRECTIONS)),
  modelProviders: opt(seq(str())),
  sourceKinds: opt(seq(variant(THREAD_SOURCE_KINDS))),
  archived: opt(bool()),
  cwd: opt(untagged<string | string[]>('ThreadListCwdFilter', [str(), seq(str())])),
  useStateDbOnly: opt(bool()),
  searchTerm: opt(str()),
  excludedThreadIds: opt(seq(str())),
  originators: opt(seq(str())),
  // `sectionId: null` means "unsectioned threads", distinct from absent.
  sectionId: clearable(str()),
  currentAccountOnly: opt(bool()),
  // Experimental.
  projectId: opt(str()),
  parentThreadId: opt(str()),
  ancestorThreadId: opt(str()),
  attachedToThreadId: opt(str()),
  includeAttachedThreads: opt(bool()),
});

/**
 * Zod schema of `thread/loaded/list`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadLoadedListParams = struct('ThreadLoadedListParams', {
  cursor: opt(str()),
  limit: opt(u32()),
});

/**
 * A params schema named `name` with just a `threadId` (archive, unarchive, delete, unsubscribe).
 */
export const threadIdParams = (name: string) => struct(name, { threadId: str() });
/** Zod schema of `thread/archive`'s params (`{threadId}`). */
export const threadArchiveParams = threadIdParams('ThreadArchiveParams');
/** Zod schema of `thread/unarchive`'s params (`{threadId}`). */
export const threadUnarchiveParams = threadIdParams('ThreadUnarchiveParams');
/** Zod schema of `thread/delete`'s params (`{threadId}`). */
export const threadDeleteParams = threadIdParams('ThreadDeleteParams');
/** Zod schema of `thread/unsubscribe`'s params (`{threadId}`). */
export const threadUnsubscribeParams = threadIdParams('ThreadUnsubscribeParams');

/**
 * Zod schema of `thread/name/set`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadSetNameParams = struct('ThreadSetNameParams', {
  threadId: str(),
  name: str(),
});

/**
 * Zod schema of `thread/metadata/update`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadMetadataUpdateParams = struct('ThreadMetadataUpdateParams', {
  threadId: str(),
  gitInfo: opt(
    struct('ThreadMetadataGitInfoUpdateParams', {
      sha: clearable(str()),
      branch: clearable(str()),
      originUrl: clearable(str()),
    }),
  ),
  // Experimental.
  projectId: clearable(str()),
  daybreakEnabled: opt(bool()),
});

/**
 * Zod schema of `thread/turns/list`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadTurnsListParams = struct('ThreadTurnsListParams', {
  threadId: str(),
  cursor: opt(str()),
  limit: opt(u32()),
  sortDirection: opt(variant(SORT_DIRECTIONS)),
  itemsView: opt(variant(TURN_ITEMS_VIEWS)),
});

/**
 * Zod schema of `thread/items/list`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadItemsListParams = struct('ThreadItemsListParams', {
  threadId: str(),
  turnId: opt(str()),
  cursor: opt(str()),
  limit: opt(u32()),
  sortDirection: opt(variant(SORT_DIRECTIONS)),
});

// Field order as serde reports missing fields: `operation` before `expectedRevision`.
/**
 * Zod schema of `thread/readState/update`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadReadStateUpdateParams = struct('ThreadReadStateUpdateParams', {
  threadId: str(),
  operation: struct('ThreadReadStateOperation', { type: variant(['read', 'unread'] as const) }),
  expectedRevision: str(),
});

/**
 * Zod schema of `thread/inject_items`'s params; failures read as Codex's serde errors
 * (`serdeMessage`).
 */
export const threadInjectItemsParams = struct('ThreadInjectItemsParams', {
  threadId: str(),
  items: seq(json()),
});

/** `initialize`'s params, as parsed. */
export type InitializeParams = z.output<typeof initializeParams>;
/** `thread/start`'s params, as parsed. */
export type ThreadStartParams = z.output<typeof threadStartParams>;
/** `thread/resume`'s params, as parsed. */
export type ThreadResumeParams = z.output<typeof threadResumeParams>;
/** `thread/fork`'s params, as parsed. */
export type ThreadForkParams = z.output<typeof threadForkParams>;
/** `thread/read`'s params, as parsed. */
export type ThreadReadParams = z.output<typeof threadReadParams>;
/** `thread/list`'s params, as parsed. */
export type ThreadListParams = z.output<typeof threadListParams>;
/** `thread/loaded/list`'s params, as parsed. */
export type ThreadLoadedListParams = z.output<typeof threadLoadedListParams>;
/** `thread/name/set`'s params, as parsed. */
export type ThreadSetNameParams = z.output<typeof threadSetNameParams>;
/** `thread/metadata/update`'s params, as parsed. */
export type ThreadMetadataUpdateParams = z.output<typeof threadMetadataUpdateParams>;
/** `thread/turns/list`'s params, as parsed. */
export type ThreadTurnsListParams = z.output<typeof threadTurnsListParams>;
/** `thread/items/list`'s params, as parsed. */
export type ThreadItemsListParams = z.output<typeof threadItemsListParams>;
/** `thread/readState/update`'s params, as parsed. */
export type ThreadReadStateUpdateParams = z.output<typeof threadReadStateUpdateParams>;
/** `thread/inject_items`'s params, as parsed. */
export type ThreadInjectItemsParams = z.output<typeof threadInjectItemsParams>;

/** Methods 0.169.0 serves only to clients that asked for the experimental API. */
export const EXPERIMENTAL_METHODS: readonly string[] = ['thread/readState/update'];

/**
 * Experimental params per method: sending one (non-null) without
 * `capabilities.experimentalApi` fails `<method>.<field> requires experimentalApi capability`.
 */
export const EXPERIMENTAL_PARAMS: Readonly<Record<string, readonly string[]>> = {
  'thread/start': [
    'allowProviderModelFallback',
    'runtimeWorkspaceRoots',
    'permissions',
    'multiAgentMode',
    'historyMode',
    'projectId',
    'daybreakEnabled',
    'environments',
    'dynamicTools',
    'selectedCapabilityRoots',
    'mockExperimentalField',
    'experimentalRawEvents',
  ],
  'thread/resume': ['history', 'path', 'runtimeWorkspaceRoots', 'permissions', 'initialTurnsPage'],
  'thread/fork': [
    'experimentalPredictionMode',
    'experimentalDisablePredictionMcp',
    'beforeTurnId',
    'path',
    'runtimeWorkspaceRoots',
    'permissions',
    'attachToSource',
    'deferGoalContinuation',
  ],
  'thread/list': [
    'projectId',
    'parentThreadId',
    'ancestorThreadId',
    'attachedToThreadId',
    'includeAttachedThreads',
  ],
  'thread/metadata/update': ['projectId', 'daybreakEnabled'],
};
