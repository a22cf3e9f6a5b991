import type { ThreadId } from '@skein/protocol';
import {
  buildSessionMeta,
  type GitInfo as RolloutGitInfo,
  type SessionMetaLine,
  threadSpawnOf,
} from '@skein/rollout';
import type { CreateThreadParams } from './types.js';

/** What a created thread's source says about the sub-agent it is (all null for a top thread). */
export interface SpawnFacts {
  /** The explicit parent, else the `thread_spawn` source's parent (lower-cased). */
  parentThreadId: ThreadId | null;
  agentNickname: string | null;
  agentRole: string | null;
  agentPath: string | null;
}

/**
 * The sub-agent facts of a thread's source (parent, depth, nickname, role, path), all null for a
 * thread that was not spawned.
 */
export function spawnFactsOf(params: CreateThreadParams): SpawnFacts {
  const spawn = threadSpawnOf(params.source);
  const text = (key: string): string | null => {
    const value = spawn?.[key];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const spawnParent = text('parent_thread_id');
  return {
    parentThreadId:
      params.parentThreadId ??
      (spawnParent === null ? null : (spawnParent.toLowerCase() as ThreadId)),
    agentNickname: text('agent_nickname'),
    agentRole: text('agent_role'),
    agentPath: text('agent_path'),
  };
}

/**
 * What a new rollout's `session_meta` takes besides the create params: the creation instant, cwd,
 * CLI version and git facts.
 */
export interface SessionMetaContext {
  /** Creation instant, RFC 3339 UTC. */
  timestamp: string;
  cwd: string;
  cliVersion: string;
  git?: RolloutGitInfo | null;
}

/**
 * The `session_meta` every store puts first in a created thread's history: one builder, so a
 * thread reads the same from a Codex home, memory, PostgreSQL or a remote store.
 */
export function sessionMetaForCreate(
  params: CreateThreadParams,
  context: SessionMetaContext,
): SessionMetaLine {
  return buildSessionMeta({
    threadId: params.threadId,
    sessionId: params.sessionId,
    forkedFromId: params.forkedFromId,
    parentThreadId: params.parentThreadId,
    timestamp: context.timestamp,
    cwd: context.cwd,
    originator: params.originator,
    cliVersion: context.cliVersion,
    source: params.source,
    threadSource: params.threadSource,
    modelProvider: params.metadata.modelProvider,
    baseInstructions: params.baseInstructions,
    dynamicTools: params.dynamicTools,
    selectedCapabilityRoots: params.selectedCapabilityRoots,
    multiAgentVersion: params.multiAgentVersion,
    contextWindowId: params.initialWindowId,
    memoriesDisabled: params.metadata.memoryMode === 'disabled',
    historyMode: params.historyMode,
    historyBase:
      params.historyBase == null
        ? null
        : {
            thread_id: params.historyBase.threadId,
            end_ordinal_exclusive: params.historyBase.endOrdinalExclusive,
            end_byte_offset: params.historyBase.endByteOffset,
          },
    git: context.git,
  });
}
