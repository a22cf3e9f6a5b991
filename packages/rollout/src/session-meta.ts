import type { SessionSource } from '@skein/protocol';
import { threadSpawnOf } from './metadata.js';
import type { GitInfo, HistoryBase, SessionMetaLine } from './schema.js';

/** What a new thread's first line says about it, in the writer's words. */
export interface SessionMetaFields {
  threadId: string;
  /** Written only when it differs from the thread id (Codex omits it otherwise). */
  sessionId?: string | null | undefined;
  forkedFromId?: string | null | undefined;
  parentThreadId?: string | null | undefined;
  /** RFC 3339 UTC creation instant. */
  timestamp: string;
  cwd: string;
  originator: string;
  cliVersion: string;
  source: SessionSource;
  threadSource?: string | null | undefined;
  modelProvider: string | null;
  baseInstructions: { text: string } | null | undefined;
  /** Tool specs as given (`DynamicTool` shaped); written only when non-empty. */
  dynamicTools?: readonly unknown[] | undefined;
  /** Newer fields, written when given (`selected_capability_roots` only when non-empty). */
  selectedCapabilityRoots?: readonly unknown[] | undefined;
  multiAgentVersion?: unknown;
  /** Written as `context_window: { window_id }`. */
  contextWindowId?: string | null | undefined;
  /** Written as `memory_mode: "disabled"`; an enabled mode is the default and left out. */
  memoriesDisabled?: boolean | undefined;
  /** Written only for a non-legacy mode. */
  historyMode?: string | null | undefined;
  /**
   * A 0.169 fork by reference: the inherited part of the source's history (its thread, and
   * where that part ends), also written as `forked_from_ordinal_exclusive`.
   */
  historyBase?: HistoryBase | null | undefined;
  git?: GitInfo | null | undefined;
}

/**
 * The `session_meta` payload of a new thread, with the keys in the order Codex writes them
 * (legacy history mode), so files Skein writes read like files Codex writes. Agent fields come
 * from a `thread_spawn` source.
 */
export function buildSessionMeta(fields: SessionMetaFields): SessionMetaLine {
  const spawn = threadSpawnOf(fields.source);
  const spawnString = (key: string): string | undefined => {
    const value = spawn?.[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const meta: Record<string, unknown> = { id: fields.threadId };
  if (fields.sessionId != null && fields.sessionId !== fields.threadId) {
    meta.session_id = fields.sessionId;
  }
  if (fields.forkedFromId) meta.forked_from_id = fields.forkedFromId;
  const base = fields.historyBase ?? null;
  if (base?.end_ordinal_exclusive !== undefined) {
    meta.forked_from_ordinal_exclusive = base.end_ordinal_exclusive;
  }
  if (fields.parentThreadId) meta.parent_thread_id = fields.parentThreadId;
  meta.timestamp = fields.timestamp;
  meta.cwd = fields.cwd;
  meta.originator = fields.originator;
  meta.cli_version = fields.cliVersion;
  meta.source = fields.source;
  if (fields.threadSource) meta.thread_source = fields.threadSource;
  for (const key of ['agent_nickname', 'agent_role', 'agent_path']) {
    const value = spawnString(key);
    if (value !== undefined) meta[key] = value;
  }
  meta.model_provider = fields.modelProvider;
  meta.base_instructions = fields.baseInstructions == null ? null : { ...fields.baseInstructions };
  if (fields.dynamicTools !== undefined && fields.dynamicTools.length > 0) {
    meta.dynamic_tools = structuredClone(fields.dynamicTools);
  }
  if (fields.selectedCapabilityRoots !== undefined && fields.selectedCapabilityRoots.length > 0) {
    meta.selected_capability_roots = structuredClone(fields.selectedCapabilityRoots);
  }
  if (fields.multiAgentVersion != null) meta.multi_agent_version = fields.multiAgentVersion;
  if (fields.contextWindowId != null) meta.context_window = { window_id: fields.contextWindowId };
  if (fields.memoriesDisabled) meta.memory_mode = 'disabled';
  if (fields.historyMode != null && fields.historyMode !== 'legacy') {
    meta.history_mode = fields.historyMode;
  }
  if (base !== null) meta.history_base = { ...base };
  if (fields.git != null && Object.keys(fields.git).length > 0) meta.git = { ...fields.git };
  return meta as SessionMetaLine;
}
