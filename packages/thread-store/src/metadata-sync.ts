/**
 * `ThreadMetadataSync` (spec thread-store §6.2): derives metadata patches from the history a
 * live thread appends, keeps one pending (merged) patch with a generation counter, and
 * coalesces bare `updatedAt` touches. It never writes anything itself; `LiveThread` sends its
 * patches through `ThreadStore.updateThreadMetadata`.
 */

import { eventUserMessage, parseSessionTimestampMs } from '@skein/rollout';
import { collectGitInfo } from './git-info.js';
import { isTurnStarted, itemAffectsThreadMetadata, payloadRecord, stringField } from './items.js';
import {
  gitInfoPatchFromObserved,
  isThreadMetadataPatchEmpty,
  mergeThreadMetadataPatch,
} from './patch.js';
import { spawnFactsOf } from './session-meta.js';
import type {
  CreateThreadParams,
  ResumeThreadParams,
  RolloutItem,
  SessionSource,
  ThreadId,
  ThreadMetadataPatch,
  ThreadSource,
  TokenUsage,
} from './types.js';
import { SKEIN_CLI_VERSION } from './version.js';

/** Production interval between persisted `updatedAt`-only touches. */
export const THREAD_UPDATED_AT_TOUCH_INTERVAL_MS = 5_000;

/** A metadata patch derived from appended items, waiting to be sent. */
export interface PendingMetadataUpdate {
  patch: ThreadMetadataPatch;
  generation: number;
}

/** How often a thread's `updated_at` is touched when appends change nothing else. */
export interface ThreadMetadataSyncOptions {
  /** Minimum time between two persisted bare touches (default 5 s). */
  touchIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Collects git facts for a new thread's cwd (default: run `git`). */
  collectGitInfo?: typeof collectGitInfo;
}

/**
 * Derives thread metadata patches from appended items, as Codex's metadata builder does (first
 * user message, preview, model, tokens, times), for `LiveThread`.
 */
export class ThreadMetadataSync {
  readonly threadId: ThreadId;
  private cwdSeen = false;
  private previewSeen = false;
  private firstUserMessageSeen = false;
  private titleSeen = false;
  /** The creation time a new thread's sync records (undefined for a resumed thread). */
  createdAtMs: number | undefined;
  private pending: ThreadMetadataPatch | undefined;
  private generation = 0;
  private lastTouchPersistedAtMs: number | undefined;
  private deferCreateUpdateUntilHistoryExists = false;
  private deferResumeUpdateUntilAppend = false;
  private readonly touchIntervalMs: number;
  private readonly now: () => number;

  private constructor(threadId: ThreadId, options: ThreadMetadataSyncOptions) {
    this.threadId = threadId;
    this.touchIntervalMs = options.touchIntervalMs ?? THREAD_UPDATED_AT_TOUCH_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  static async forCreate(
    params: CreateThreadParams,
    options: ThreadMetadataSyncOptions = {},
  ): Promise<ThreadMetadataSync> {
    const sync = new ThreadMetadataSync(params.threadId, options);
    const created = params.createdAtMs ?? sync.now();
    sync.createdAtMs = created;
    const cwd = params.metadata.cwd ?? '';
    const git = cwd === '' ? null : await (options.collectGitInfo ?? collectGitInfo)(cwd);
    const spawn = spawnFactsOf(params);
    const patch: ThreadMetadataPatch = {
      modelProvider: params.metadata.modelProvider,
      createdAtMs: created,
      updatedAtMs: created,
      source: params.source,
      threadSource: params.threadSource ?? null,
      agentNickname: spawn.agentNickname,
      agentRole: spawn.agentRole,
      agentPath: spawn.agentPath,
      cwd,
      cliVersion: params.cliVersion ?? SKEIN_CLI_VERSION,
      memoryMode: params.metadata.memoryMode,
    };
    if (git !== null) patch.gitInfo = gitInfoPatchFromObserved(git);
    sync.pending = patch;
    sync.cwdSeen = cwd !== '';
    sync.generation = 1;
    sync.deferCreateUpdateUntilHistoryExists = true;
    return sync;
  }

  static forResume(
    params: ResumeThreadParams,
    options: ThreadMetadataSyncOptions = {},
  ): ThreadMetadataSync {
    const sync = new ThreadMetadataSync(params.threadId, options);
    sync.cwdSeen = (params.metadata.cwd ?? '') !== '';
    if (params.history != null) {
      const observed = sync.observeItems(ownItems(params.history, params.threadId), {});
      if (observed !== undefined && !isThreadMetadataPatchEmpty(observed)) {
        sync.pending = observed;
        sync.generation = 1;
      }
      sync.deferResumeUpdateUntilAppend = sync.pending !== undefined;
    }
    return sync;
  }

  /** Derives a patch from items over `base`; undefined for an empty item list. */
  observeItems(
    items: readonly RolloutItem[],
    base: ThreadMetadataPatch,
  ): ThreadMetadataPatch | undefined {
    if (items.length === 0) return undefined;
    const patch: ThreadMetadataPatch = { ...base };
    for (const item of items) this.observeItem(item, patch);
    return patch;
  }

  private observeItem(item: RolloutItem, patch: ThreadMetadataPatch): boolean {
    const payload = payloadRecord(item);
    if (item.type === 'session_meta') {
      if (stringField(payload, 'id')?.toLowerCase() !== this.threadId) return false;
      const created = parseMetaTimestamp(stringField(payload, 'timestamp'));
      if (created !== undefined) patch.createdAtMs = created;
      const source = payload.source;
      if (source !== undefined) patch.source = source as SessionSource;
      const threadSource = stringField(payload, 'thread_source');
      // A client's own source (`nightly-digest`) is kept as written, as 0.169 keeps it.
      patch.threadSource =
        threadSource !== undefined && threadSource !== '' ? (threadSource as ThreadSource) : null;
      patch.agentNickname = stringField(payload, 'agent_nickname') ?? null;
      patch.agentRole =
        stringField(payload, 'agent_role') ?? stringField(payload, 'agent_type') ?? null;
      patch.agentPath = stringField(payload, 'agent_path') ?? null;
      const provider = stringField(payload, 'model_provider');
      if (provider) patch.modelProvider = provider;
      const cliVersion = stringField(payload, 'cli_version');
      if (cliVersion) patch.cliVersion = cliVersion;
      const cwd = stringField(payload, 'cwd');
      if (cwd) {
        patch.cwd = cwd;
        this.cwdSeen = true;
      }
      const git = payload.git;
      if (typeof git === 'object' && git !== null) {
        const record = git as Record<string, unknown>;
        patch.gitInfo = gitInfoPatchFromObserved({
          commitHash: stringField(record, 'commit_hash'),
          branch: stringField(record, 'branch'),
          repositoryUrl: stringField(record, 'repository_url'),
        });
      }
      const memoryMode = stringField(payload, 'memory_mode');
      if (memoryMode === 'enabled' || memoryMode === 'disabled') patch.memoryMode = memoryMode;
      return true;
    }
    if (item.type === 'turn_context') {
      const cwd = stringField(payload, 'cwd');
      if (cwd && !this.cwdSeen) {
        patch.cwd = cwd;
        this.cwdSeen = true;
      }
      const model = stringField(payload, 'model');
      if (model !== undefined) patch.model = model;
      const effort = stringField(payload, 'effort');
      if (effort !== undefined) patch.reasoningEffort = effort;
      const approval = payload.approval_policy;
      if (typeof approval === 'string') patch.approvalMode = approval;
      else if (approval !== undefined && approval !== null)
        patch.approvalMode = JSON.stringify(approval);
      const profile = payload.permission_profile ?? payload.sandbox_policy;
      if (profile !== undefined && profile !== null) {
        patch.permissionProfile = profile as ThreadMetadataPatch['permissionProfile'] & {};
      }
      return true;
    }
    if (item.type !== 'event_msg') return false;
    const kind = item.payload.type;
    const user = eventUserMessage(item.payload);
    if (user !== null) {
      let changed = false;
      if (user.preview !== null) {
        if (!this.firstUserMessageSeen) {
          patch.firstUserMessage = user.preview;
          this.firstUserMessageSeen = true;
          changed = true;
        }
        if (!this.previewSeen) {
          patch.preview = user.preview;
          this.previewSeen = true;
          changed = true;
        }
      }
      if (!this.titleSeen && user.text !== '') {
        patch.title = user.text;
        this.titleSeen = true;
        changed = true;
      }
      return changed;
    }
    if (kind === 'token_count') {
      const usage = tokenUsageOf(payload.info);
      if (usage === undefined) return false;
      patch.tokenUsage = usage;
      return true;
    }
    if (kind === 'thread_goal_updated') {
      if (this.previewSeen) return false;
      const goal = payload.goal;
      const objective =
        typeof goal === 'object' && goal !== null
          ? stringField(goal as Record<string, unknown>, 'objective')?.trim()
          : undefined;
      if (!objective) return false;
      patch.preview = objective;
      this.previewSeen = true;
      return true;
    }
    return false;
  }

  /** Observes canonical appended items; returns the pending update to send now, if any. */
  observeAppendedItems(items: readonly RolloutItem[]): PendingMetadataUpdate | undefined {
    this.deferCreateUpdateUntilHistoryExists = false;
    this.deferResumeUpdateUntilAppend = false;
    if (items.length === 0) return undefined;
    const now = this.now();
    const affects = items.some(itemAffectsThreadMetadata);
    const advancesRecency = items.some(isTurnStarted);
    let patch: ThreadMetadataPatch | undefined;
    if (affects) {
      patch = this.observeItems(items, { updatedAtMs: now });
    } else {
      patch = { updatedAtMs: now };
    }
    if (patch !== undefined && advancesRecency) patch.advanceRecencyAtMs = now;
    if (patch !== undefined) {
      this.pending =
        this.pending === undefined ? patch : mergeThreadMetadataPatch(this.pending, patch);
      this.generation += 1;
    }
    if (this.pending === undefined) return undefined;
    const touchedRecently =
      this.lastTouchPersistedAtMs !== undefined &&
      now - this.lastTouchPersistedAtMs < this.touchIntervalMs;
    if (!affects && !hasMetadataFacts(this.pending) && touchedRecently) return undefined;
    return this.takePendingUpdate();
  }

  /** The generation of the newest merged facts (bumped by every observed append). */
  get currentGeneration(): number {
    return this.generation;
  }

  /** The pending update (a copy; it stays pending until marked applied). */
  takePendingUpdate(): PendingMetadataUpdate | undefined {
    if (this.pending === undefined) return undefined;
    return { patch: copyPlain(this.pending), generation: this.generation };
  }

  /** Like `takePendingUpdate`, but holds back create/resume facts until history exists. */
  takePendingUpdateForExistingHistory(): PendingMetadataUpdate | undefined {
    if (this.deferCreateUpdateUntilHistoryExists || this.deferResumeUpdateUntilAppend) {
      return undefined;
    }
    return this.takePendingUpdate();
  }

  /** Clears the pending patch only if nothing newer was merged since `update` was taken. */
  markPendingUpdateApplied(update: PendingMetadataUpdate): void {
    if (update.generation === this.generation) this.pending = undefined;
    if (update.patch.updatedAtMs !== undefined) this.lastTouchPersistedAtMs = this.now();
  }
}

/**
 * A deep copy of JSON-like data (all a patch holds: strings, numbers, null, plain objects and
 * arrays from rollout payloads). One per append: `structuredClone` costs 3–6 µs here, this a
 * fraction of one.
 */
function copyPlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // A payload key `__proto__` stays an own property, as structuredClone keeps it.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: copyPlain(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      copy[key] = copyPlain(field);
    }
  }
  return copy as T;
}

/** Any field other than `updatedAtMs` counts as a metadata fact. */
function hasMetadataFacts(patch: ThreadMetadataPatch): boolean {
  return Object.entries(patch).some(([key, value]) => key !== 'updatedAtMs' && value !== undefined);
}

/** A session-meta timestamp: RFC 3339, or the file-name form `YYYY-MM-DDTHH-MM-SS` (UTC). */
export function parseMetaTimestamp(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseSessionTimestampMs(value) ?? undefined;
}

function numberField(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function tokenUsageOf(info: unknown): TokenUsage | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const total = (info as Record<string, unknown>).total_token_usage;
  if (typeof total !== 'object' || total === null) return undefined;
  const record = total as Record<string, unknown>;
  return {
    inputTokens: numberField(record, 'input_tokens'),
    cachedInputTokens: numberField(record, 'cached_input_tokens'),
    outputTokens: numberField(record, 'output_tokens'),
    reasoningOutputTokens: numberField(record, 'reasoning_output_tokens'),
    totalTokens: numberField(record, 'total_tokens'),
  };
}

/**
 * The items a resumed thread wrote itself. A paginated fork by reference's history starts with
 * the lines it reads through its source (opened by the source's session meta) and goes on from
 * its own session meta; Codex 0.169 derives nothing of the fork's metadata from the inherited
 * part (its preview stays the fork's own). Any other history is the thread's own throughout.
 */
function ownItems(history: readonly RolloutItem[], threadId: ThreadId): readonly RolloutItem[] {
  const first = history[0];
  if (first?.type !== 'session_meta') return history;
  const sessionOf = (item: RolloutItem) => stringField(payloadRecord(item), 'id')?.toLowerCase();
  if (sessionOf(first) === threadId) return history;
  const own = history.findIndex(
    (item) => item.type === 'session_meta' && sessionOf(item) === threadId,
  );
  return own > 0 ? history.slice(own) : history;
}
