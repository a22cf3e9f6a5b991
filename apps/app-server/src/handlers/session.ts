/**
 * The session settings `thread/start`, `thread/resume` and `thread/fork` echo in their results,
 * resolved as 0.169.0 resolves them (observed on the real binary with and without a
 * config.toml):
 * - `model`: the request's, else (resume) the thread's recorded model, else config.toml's,
 *   else 0.169.0's built-in default. A fork runs on the config model, not its source's.
 * - `reasoningEffort`: resume keeps the thread's; start and fork take config.toml's.
 * - `approvalPolicy`: the request's, else (resume, fork) the one the thread last ran with
 *   (its latest `turn_context` / `thread_settings_applied`), else config.toml's, else
 *   `on-request`.
 * - `sandbox`, `approvalsReviewer`, `serviceTier`: the request's, else config.toml's, else
 *   read-only, `user`, none.
 * - `activePermissionProfile`: (resume, fork) none when the thread's settings snapshot (which
 *   0.169.0 writes, 0.131 does not) holds a permission profile, else the built-in `:read-only`
 *   profile unless a sandbox mode was chosen (by the request or config.toml), then none.
 * Skein runs no model: these are the values a stock client would see, nothing enforces them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { SessionConfig } from '../config.js';

/** The model 0.169.0 runs when neither the request nor config.toml names one. */
export const CODEX_DEFAULT_MODEL = 'gpt-6.1-sol';

export interface SessionRequest {
  model?: string | undefined;
  serviceTier?: string | null | undefined;
  approvalPolicy?: unknown;
  approvalsReviewer?: string | undefined;
  sandbox?: string | undefined;
}

export interface SessionEcho {
  model: string;
  modelProvider: string;
  serviceTier: string | null;
  disabledPluginIds: string[];
  cwd: string;
  runtimeWorkspaceRoots: string[];
  instructionSources: string[];
  approvalPolicy: unknown;
  approvalsReviewer: string;
  sandbox: Record<string, unknown>;
  activePermissionProfile: { id: string; extends: null } | null;
  reasoningEffort: string | null;
}

function sandboxPolicy(mode: string | null): Record<string, unknown> {
  switch (mode) {
    case 'danger-full-access':
      return { type: 'dangerFullAccess' };
    case 'workspace-write':
      return {
        type: 'workspaceWrite',
        writableRoots: [],
        networkAccess: false,
        excludeTmpdirEnvVar: false,
        excludeSlashTmp: false,
      };
    default:
      return { type: 'readOnly', networkAccess: false };
  }
}

/** The model a new session (start, fork) runs on. */
export function configuredModel(config: SessionConfig, requested?: string | undefined): string {
  return requested ?? config.model ?? CODEX_DEFAULT_MODEL;
}

export function sessionEcho(
  config: SessionConfig,
  request: SessionRequest,
  session: {
    model: string;
    modelProvider: string;
    cwd: string;
    reasoningEffort: string | null;
    /** What the thread last ran with, from its history (resume, fork). */
    recorded?: RecordedSettings | undefined;
  },
): SessionEcho {
  const sandboxMode = request.sandbox ?? config.sandboxMode;
  const recorded = session.recorded;
  return {
    model: session.model,
    modelProvider: session.modelProvider,
    serviceTier: request.serviceTier !== undefined ? request.serviceTier : config.serviceTier,
    disabledPluginIds: [],
    cwd: session.cwd,
    runtimeWorkspaceRoots: [session.cwd],
    instructionSources: [],
    approvalPolicy:
      request.approvalPolicy ?? recorded?.approvalPolicy ?? config.approvalPolicy ?? 'on-request',
    approvalsReviewer: request.approvalsReviewer ?? config.approvalsReviewer ?? 'user',
    sandbox: sandboxPolicy(sandboxMode),
    activePermissionProfile:
      sandboxMode !== null || recorded?.permissionProfile === true
        ? null
        : { id: ':read-only', extends: null },
    reasoningEffort: session.reasoningEffort,
  };
}

/** A filesystem permission entry of Codex's managed permission profile. */
function pathEntry(path: string, access: 'read' | 'write', skipMissing = false) {
  return {
    path: { type: 'path', path },
    access,
    ...(skipMissing ? { missing_path_behavior: 'skip' } : {}),
  };
}

/**
 * The permission profile 0.169.0 records for a sandbox mode (as written into its rollouts):
 * read-only reads the whole disk; workspace-write also writes the workspace and the temp
 * directories, but only reads the workspace's `.git`, `.agents`, `.codex` and `.aws`.
 */
function permissionProfile(mode: string | null, cwd: string): Record<string, unknown> {
  const root = { path: { type: 'special', value: { kind: 'root' } }, access: 'read' };
  if (mode === 'danger-full-access') return { type: 'disabled' };
  if (mode !== 'workspace-write') {
    return {
      type: 'managed',
      file_system: { type: 'restricted', entries: [root] },
      network: 'restricted',
    };
  }
  return {
    type: 'managed',
    file_system: {
      type: 'restricted',
      entries: [
        root,
        pathEntry(cwd, 'write'),
        { path: { type: 'special', value: { kind: 'slash_tmp' } }, access: 'write' },
        { path: { type: 'special', value: { kind: 'tmpdir' } }, access: 'write' },
        ...['.git', '.agents', '.codex', '.aws'].map((dir) =>
          pathEntry(`${cwd}/${dir}`, 'read', true),
        ),
      ],
    },
    network: 'restricted',
  };
}

/**
 * The `thread_settings_applied` event 0.169.0 appends to a legacy thread it resumes: the
 * settings the session now runs with, in the rollout's own spelling.
 */
export function settingsAppliedItem(
  config: SessionConfig,
  request: SessionRequest,
  threadId: string,
  echo: SessionEcho,
): { type: 'event_msg'; payload: Record<string, unknown> } {
  const serviceTier = request.serviceTier !== undefined ? request.serviceTier : config.serviceTier;
  return {
    type: 'event_msg',
    payload: {
      type: 'thread_settings_applied',
      thread_id: threadId,
      thread_settings: {
        model: echo.model,
        model_provider_id: echo.modelProvider,
        ...(serviceTier === null || serviceTier === undefined ? {} : { service_tier: serviceTier }),
        approval_policy: echo.approvalPolicy,
        approvals_reviewer: echo.approvalsReviewer,
        requested_approvals_reviewer: echo.approvalsReviewer,
        permission_profile: permissionProfile(request.sandbox ?? config.sandboxMode, echo.cwd),
        cwd: echo.cwd,
        runtime_workspace_roots: echo.runtimeWorkspaceRoots,
        collaboration_mode: {
          mode: 'default',
          settings: {
            model: echo.model,
            reasoning_effort: echo.reasoningEffort,
            developer_instructions: null,
          },
        },
        disabled_plugin_ids: [],
      },
    },
  };
}

/** Whether `applied` repeats the settings snapshot the history recorded last. */
export function sameAsLastSettings(
  history: readonly HistoryLine[],
  applied: { payload: Record<string, unknown> },
): boolean {
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const line = history[i] as HistoryLine;
    const payload = record(line.payload);
    if (line.type !== 'event_msg' || payload?.type !== 'thread_settings_applied') continue;
    return isDeepStrictEqual(payload.thread_settings, applied.payload.thread_settings);
  }
  return false;
}

interface HistoryLine {
  readonly type: string;
  readonly payload: unknown;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

export interface RecordedSettings {
  approvalPolicy: string | null;
  /**
   * The thread recorded its settings snapshot (`thread_settings_applied`, what 0.169.0 writes)
   * with a permission profile; a 0.131 thread only has turn contexts.
   */
  permissionProfile: boolean;
}

/** The settings a thread last ran with, from its latest turn context or settings snapshot. */
export function recordedSettings(history: readonly HistoryLine[]): RecordedSettings {
  let approvalPolicy: string | null = null;
  let permissionProfile = false;
  let approvalFound = false;
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const line = history[i] as HistoryLine;
    const payload = record(line.payload);
    if (payload === null) continue;
    const snapshot =
      line.type === 'event_msg' && payload.type === 'thread_settings_applied'
        ? record(payload.thread_settings)
        : null;
    const settings = line.type === 'turn_context' ? payload : snapshot;
    if (settings === null) continue;
    if (!approvalFound) {
      approvalFound = true;
      const policy = settings.approval_policy;
      approvalPolicy = typeof policy === 'string' ? policy : null;
    }
    if (snapshot !== null) {
      permissionProfile = record(snapshot.permission_profile) !== null;
      break;
    }
  }
  return { approvalPolicy, permissionProfile };
}

function wireTokens(value: unknown): Record<string, number> {
  const usage = record(value) ?? {};
  const n = (key: string) => (typeof usage[key] === 'number' ? (usage[key] as number) : 0);
  return {
    totalTokens: n('total_tokens'),
    inputTokens: n('input_tokens'),
    cachedInputTokens: n('cached_input_tokens'),
    cacheWriteInputTokens: n('cache_write_input_tokens'),
    outputTokens: n('output_tokens'),
    reasoningOutputTokens: n('reasoning_output_tokens'),
  };
}

/**
 * `thread/tokenUsage/updated` params for a thread whose history is loaded: the last recorded
 * `token_count` and the turn it belongs to. Null when the history recorded no usage.
 */
export function tokenUsageOf(
  threadId: string,
  history: readonly HistoryLine[],
): Record<string, unknown> | null {
  let turnId: string | null = null;
  let info: Record<string, unknown> | null = null;
  let infoTurn: string | null = null;
  for (const line of history) {
    const payload = record(line.payload);
    if (line.type !== 'event_msg' || payload === null) continue;
    if (
      (payload.type === 'task_started' || payload.type === 'turn_started') &&
      typeof payload.turn_id === 'string'
    ) {
      turnId = payload.turn_id;
    } else if (payload.type === 'token_count' && record(payload.info) !== null) {
      info = record(payload.info);
      infoTurn = turnId;
    }
  }
  if (info === null || infoTurn === null) return null;
  const window = info.model_context_window;
  return {
    threadId,
    turnId: infoTurn,
    tokenUsage: {
      total: wireTokens(info.total_token_usage),
      last: wireTokens(info.last_token_usage),
      modelContextWindow: typeof window === 'number' ? window : null,
    },
  };
}
