import type { SessionSource, ThreadId } from '@skein/protocol';
import { requireThreadId } from './errors.js';
import type { FsyncPolicy } from './fsync-policy.js';
import type { DynamicTool, GitInfo, SessionMetaLine } from './schema.js';
import { buildSessionMeta } from './session-meta.js';

/*
 * What `RolloutRecorder` is created with, and what it reports about the lines it writes.
 */

/**
 * A new rollout's facts for `RolloutRecorder.create`: home, thread id, cwd, originator, CLI
 * version, source, provider, lineage and git facts.
 */
export interface CreateRolloutRecorderParams {
  codexHome: string;
  threadId: string;
  cwd: string;
  /** Client that created the thread (`codex_cli_rs`, `skein`, ...). */
  originator: string;
  cliVersion: string;
  /** `SessionSource` (`"cli"`, `"vscode"`, `{"subagent":…}`, ...). */
  source: SessionSource;
  modelProvider: string | null;
  baseInstructions?: string | null;
  dynamicTools?: readonly DynamicTool[];
  forkedFromId?: string | null;
  parentThreadId?: string | null;
  threadSource?: 'user' | 'subagent' | 'memory_consolidation' | null;
  /** Written as `memory_mode: "disabled"` when memories are off. */
  memoriesDisabled?: boolean;
  /**
   * Git facts for `session_meta.git`: given, none (null), or read from `cwd` when the file is
   * materialized ('detect', the default).
   */
  git?: GitInfo | null | 'detect';
  /** Creation instant (file name in local time, meta timestamp in UTC). Default: now. */
  createdAt?: Date;
  /** See {@link RecorderMaterializeOptions}. */
  materializeOnFlush?: boolean;
  /** See {@link RecorderMaterializeOptions}. */
  fsyncPolicy?: FsyncPolicy;
}

/** The `session_meta` of a new rollout from its create params (lineage ids checked). */
export function sessionMetaOfCreateParams(
  params: CreateRolloutRecorderParams,
  threadId: ThreadId,
  timestamp: string,
): SessionMetaLine {
  return buildSessionMeta({
    threadId,
    forkedFromId: params.forkedFromId
      ? requireThreadId(params.forkedFromId, 'forked-from id')
      : null,
    parentThreadId: params.parentThreadId
      ? requireThreadId(params.parentThreadId, 'parent thread id')
      : null,
    timestamp,
    cwd: params.cwd,
    originator: params.originator,
    cliVersion: params.cliVersion,
    source: params.source,
    threadSource: params.threadSource,
    modelProvider: params.modelProvider,
    baseInstructions: params.baseInstructions == null ? null : { text: params.baseInstructions },
    dynamicTools: params.dynamicTools,
    memoriesDisabled: params.memoriesDisabled,
  });
}

/**
 * When a deferred recorder's file is created, paginated ordinals, a hook told about every
 * written line, and where flushes fsync.
 */
export interface RecorderMaterializeOptions {
  /**
   * Also materialize a deferred file when `flush`, `shutdown` or `writeBuffered` finds items
   * buffered (the thread store's rule), not only on a user message or `persist`. Default false.
   */
  materializeOnFlush?: boolean;
  /**
   * Codex 0.169's paginated mode: every line carries the next `ordinal`, starting at this one
   * (the `session_meta` line of a new file gets it; a fork's first line continues its
   * source's ordinals). Absent: legacy lines without ordinals.
   */
  firstOrdinal?: number;
  /** Told, after every successful write, which lines went out and where (see `WrittenLine`). */
  onWritten?: (lines: readonly WrittenLine[]) => void;
  /**
   * Where flushes fsync: on the calling thread while the disk is fast, else on the threadpool.
   * Default: the process's `defaultFsyncPolicy`; `new FsyncPolicy({ budgetMs: 0 })` always uses
   * the threadpool.
   */
  fsyncPolicy?: FsyncPolicy;
}

/** A line the recorder wrote: its item, ordinal (paginated files) and byte range in the file. */
export interface WrittenLine {
  item: { type: string; payload: unknown };
  ordinal: number | null;
  /** Offset of the line's first byte. */
  start: number;
  /** Offset just past its `\n`. */
  end: number;
}

/** A deferred recorder whose `session_meta` the caller builds (at materialization time). */
export interface CreateRolloutRecorderWithMetaParams extends RecorderMaterializeOptions {
  path: string;
  threadId: string;
  /** Runs once, when the file is materialized; its result is the first line's payload. */
  buildSessionMeta: () => Promise<SessionMetaLine>;
  /** The meta line's timestamp. Default: the materialization instant. */
  metaTimestamp?: Date;
}
