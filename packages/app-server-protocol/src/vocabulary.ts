/**
 * The wire's vocabularies (the string sets its params accept), apart from the params schemas so a
 * caller that needs only a list of names (the CLI's `--source` choices) loads no zod schema.
 */
/** The sandbox modes `thread/start` and friends accept. */
export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
/** The approval policies the wire accepts. */
export const APPROVAL_POLICIES = ['untrusted', 'on-request', 'never'] as const;
/** Who reviews approvals: the user, automatic review, or a guardian sub-agent. */
export const APPROVALS_REVIEWERS = ['user', 'auto_review', 'guardian_subagent'] as const;
/** The personalities a thread may be started with. */
export const PERSONALITIES = ['none', 'friendly', 'pragmatic'] as const;
/** The history modes of the wire (`legacy`, `paginated`). */
export const HISTORY_MODES = ['legacy', 'paginated'] as const;
/** The sort keys `thread/list` accepts. */
export const THREAD_SORT_KEYS = [
  'created_at',
  'updated_at',
  'recency_at',
  'section_position',
] as const;
/** How much of each turn's items `thread/turns/list` returns. */
export const TURN_ITEMS_VIEWS = ['notLoaded', 'summary', 'full'] as const;
/** The source kinds `thread/list`'s `sourceKinds` filter accepts. */
export const THREAD_SOURCE_KINDS = [
  'cli',
  'vscode',
  'exec',
  'appServer',
  'subAgent',
  'subAgentReview',
  'subAgentCompact',
  'subAgentThreadSpawn',
  'subAgentOther',
  'unknown',
] as const;

/** A `thread/list` sort key on the wire. */
export type ThreadSortKeyWire = (typeof THREAD_SORT_KEYS)[number];
/** A turn items view on the wire. */
export type TurnItemsView = (typeof TURN_ITEMS_VIEWS)[number];
/** A source kind of `thread/list`'s filter. */
export type ThreadSourceKind = (typeof THREAD_SOURCE_KINDS)[number];
/** A history mode on the wire. */
export type HistoryModeWire = (typeof HISTORY_MODES)[number];
