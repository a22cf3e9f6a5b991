import {
  encodeSessionSource,
  isThreadId,
  parseFileTimestamp,
  parseRfc3339Ms,
  parseThreadId,
  type SessionSource,
  type SessionSourceJson,
  type ThreadId,
} from '@skein/protocol';
import { findThreadPath } from './find-thread-path.js';
import { cachedHeadSummary, type RolloutHeadSummary, readHeadSummary } from './head-summary.js';
import { normalizeCwd } from './layout.js';
import { threadSpawnOf } from './metadata.js';
import type { SessionMetaLine } from './schema.js';

/*
 * The items of a filesystem listing: what a rollout's head says, filtered the way a page asks,
 * built from the cached head when the file is unchanged and from a read otherwise.
 */

/** One listed thread: what the head of its rollout says, plus the file facts. */
export interface ThreadListItem {
  /** The file listed (plain `.jsonl`, or `.jsonl.zst` when only that exists). */
  path: string;
  threadId: ThreadId;
  preview: string;
  firstUserMessage: string | null;
  cwd: string;
  /** `session_meta.source` as written (unchecked; Codex's default `vscode` when absent). */
  source: SessionSourceJson;
  /** `source` as the DB stores it. */
  sourceEncoded: string;
  modelProvider: string | null;
  cliVersion: string | null;
  originator: string | null;
  gitSha: string | null;
  gitBranch: string | null;
  gitOriginUrl: string | null;
  parentThreadId: ThreadId | null;
  forkedFromId: ThreadId | null;
  agentNickname: string | null;
  agentRole: string | null;
  /** `session_meta.timestamp` as written. */
  createdAt: string;
  createdAtMs: number;
  /** File mtime (RFC 3339, ms). */
  updatedAt: string;
  updatedAtMs: number;
  archived: boolean;
  /** Name from `session_index.jsonl`, if any. */
  name: string | null;
  historyMode: 'legacy' | 'paginated';
  sessionMeta: SessionMetaLine;
}

function sameSource(a: SessionSourceJson, b: SessionSourceJson): boolean {
  // Most sources are plain names: compared as they are, without building JSON for each file.
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What summarizing one file for a listing needs: the home, the collection, the filters and the
 * default provider.
 */
export interface ItemContext {
  codexHome: string;
  archived: boolean;
  allowedSources: readonly SessionSource[];
  modelProviders: readonly string[];
  defaultProvider: string | undefined;
  cwdFilters: readonly string[] | undefined;
  /**
   * The canonical form of each head's cwd a cwd filter met in this listing: a home's threads
   * share a few dozen cwds, and each resolve is a `realpath` (taken once per listing, so a link
   * changed since the last listing counts).
   */
  canonicalCwds: Map<string, string>;
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function toId(value: unknown): ThreadId | null {
  return typeof value === 'string' && isThreadId(value) ? parseThreadId(value) : null;
}

/** The preview a fork by reference inherits from its base thread (bounded chain). */
async function inheritedPreview(
  codexHome: string,
  baseId: string,
  depth = 0,
): Promise<string | null> {
  if (depth > 8 || !isThreadId(baseId)) return null;
  const basePath = await findThreadPath(codexHome, baseId);
  if (basePath === null) return null;
  try {
    const head = await readHeadSummary(basePath);
    if (head.historyBase !== null) {
      const deeper = await inheritedPreview(codexHome, head.historyBase.thread_id, depth + 1);
      if (deeper !== null) return deeper;
    }
    return head.preview;
  } catch {
    return null;
  }
}

/** What a listed item takes from its rollout's head alone (the same while the head is). */
type HeadFacts = Pick<
  ThreadListItem,
  | 'sourceEncoded'
  | 'modelProvider'
  | 'cliVersion'
  | 'originator'
  | 'gitSha'
  | 'gitBranch'
  | 'gitOriginUrl'
  | 'parentThreadId'
  | 'forkedFromId'
  | 'agentNickname'
  | 'agentRole'
  | 'createdAt'
  | 'createdAtMs'
  | 'historyMode'
>;

/**
 * Facts derived from head summaries, kept as long as the summary is (the head cache shares one
 * summary per unchanged file): a list page re-lists the same heads page after page, and the
 * parsing behind these (times, ids, the encoded source) is most of an item's cost.
 */
const headFactsCache = new WeakMap<RolloutHeadSummary, HeadFacts>();

function headFacts(head: RolloutHeadSummary, meta: SessionMetaLine): HeadFacts {
  const known = headFactsCache.get(head);
  if (known !== undefined) return known;
  const createdAt = head.createdAt ?? meta.timestamp;
  const spawn = threadSpawnOf(meta.source);
  const facts: HeadFacts = {
    sourceEncoded: encodeSessionSource(meta.source),
    modelProvider: nonEmpty(meta.model_provider),
    cliVersion: nonEmpty(meta.cli_version),
    originator: nonEmpty(meta.originator),
    gitSha: nonEmpty(meta.git?.commit_hash),
    gitBranch: nonEmpty(meta.git?.branch),
    gitOriginUrl: nonEmpty(meta.git?.repository_url),
    // The parent the session meta names (Codex 0.169 lists a 0.131 sub-agent, whose meta names
    // none, without one).
    parentThreadId: toId(meta.parent_thread_id),
    forkedFromId: toId(meta.forked_from_id),
    agentNickname:
      nonEmpty(meta.agent_nickname) ??
      (typeof spawn?.agent_nickname === 'string' ? spawn.agent_nickname : null),
    agentRole: nonEmpty(meta.agent_role) ?? nonEmpty(meta.agent_type),
    createdAt,
    createdAtMs: parseRfc3339Ms(createdAt) ?? parseFileTimestamp(createdAt) ?? 0,
    historyMode: meta.history_mode === 'paginated' ? 'paginated' : 'legacy',
  };
  headFactsCache.set(head, facts);
  return facts;
}

/** A head that passed the filters the head alone decides, with what the item takes from it. */
interface ScreenedHead {
  head: RolloutHeadSummary;
  meta: SessionMetaLine;
  facts: HeadFacts;
  source: SessionSourceJson;
}

/**
 * The filters a head decides by itself (a listable session meta, the sources, the providers);
 * null when the file is not listed. A cwd filter and a fork's inherited preview come after.
 */
function screenHead(head: RolloutHeadSummary, context: ItemContext): ScreenedHead | null {
  const meta = head.sessionMeta;
  if (meta === null || head.threadId === null) return null;
  const filtering =
    context.allowedSources.length > 0 ||
    context.modelProviders.length > 0 ||
    context.cwdFilters !== undefined;
  if (filtering && !head.startsWithSessionMeta) return null;
  const source: SessionSourceJson = meta.source ?? 'vscode';
  if (
    context.allowedSources.length > 0 &&
    !context.allowedSources.some((s) => sameSource(s, source))
  ) {
    return null;
  }
  const facts = headFacts(head, meta);
  const provider = facts.modelProvider;
  if (context.modelProviders.length > 0) {
    const matches =
      provider === null
        ? context.defaultProvider !== undefined &&
          context.modelProviders.includes(context.defaultProvider)
        : context.modelProviders.includes(provider);
    if (!matches) return null;
  }
  return { head, meta, facts, source };
}

/** The listed item of a screened head with its preview; null for a thread not listed yet. */
function listItemOf(
  { head, meta, facts, source }: ScreenedHead,
  context: ItemContext,
  preview: string | null,
  mtimeMs: number | undefined,
): ThreadListItem | null {
  // Codex lists an archived thread that never had a message (its preview empty); an active
  // one only once it has one.
  if (preview === null && !context.archived) return null;
  const updatedAtMs = mtimeMs ?? head.file.mtimeMs;
  return {
    path: head.file.path,
    threadId: head.threadId as ThreadId,
    preview: preview ?? '',
    firstUserMessage: head.firstUserMessage,
    cwd: meta.cwd,
    source,
    sourceEncoded: facts.sourceEncoded,
    modelProvider: facts.modelProvider,
    cliVersion: facts.cliVersion,
    originator: facts.originator,
    gitSha: facts.gitSha,
    gitBranch: facts.gitBranch,
    gitOriginUrl: facts.gitOriginUrl,
    parentThreadId: facts.parentThreadId,
    forkedFromId: facts.forkedFromId,
    agentNickname: facts.agentNickname,
    agentRole: facts.agentRole,
    createdAt: facts.createdAt,
    createdAtMs: facts.createdAtMs,
    updatedAt: new Date(updatedAtMs).toISOString(),
    updatedAtMs,
    archived: context.archived,
    name: null,
    historyMode: facts.historyMode,
    sessionMeta: meta,
  };
}

/** Reads one candidate's head; null when it is not listable or filtered out. */
export async function summarizeRolloutFile(
  path: string,
  context: ItemContext,
  mtimeMs?: number,
): Promise<ThreadListItem | null> {
  let head: Awaited<ReturnType<typeof readHeadSummary>>;
  try {
    head = await readHeadSummary(path);
  } catch {
    return null;
  }
  const screened = screenHead(head, context);
  if (screened === null) return null;
  const cwd = screened.meta.cwd;
  if (context.cwdFilters !== undefined && !context.cwdFilters.includes(cwd)) {
    let canonical = context.canonicalCwds.get(cwd);
    if (canonical === undefined) {
      canonical = await normalizeCwd(cwd);
      context.canonicalCwds.set(cwd, canonical);
    }
    if (!context.cwdFilters.includes(canonical)) return null;
  }
  let preview = head.preview;
  if (head.historyBase !== null) {
    preview = (await inheritedPreview(context.codexHome, head.historyBase.thread_id)) ?? preview;
  }
  return listItemOf(screened, context, preview, mtimeMs);
}

/** What `summarizeCachedRolloutFile` answers when only `summarizeRolloutFile` can. */
export const NEEDS_READ = Symbol('needs read');

/**
 * `summarizeRolloutFile` without waiting, for a head the cache holds (one `stat`): a page of
 * unchanged files is built in one synchronous step instead of a promise chain per file (a
 * third of a default page's scan). `NEEDS_READ` when the head is not cached, or the item needs
 * more than the head: a cwd this listing has not resolved yet, or a fork's inherited preview.
 */
export function summarizeCachedRolloutFile(
  path: string,
  context: ItemContext,
  mtimeMs: number | undefined,
): ThreadListItem | null | typeof NEEDS_READ {
  const head = cachedHeadSummary(path);
  if (head === undefined) return NEEDS_READ;
  const screened = screenHead(head, context);
  if (screened === null) return null;
  const cwd = screened.meta.cwd;
  if (context.cwdFilters !== undefined && !context.cwdFilters.includes(cwd)) {
    const canonical = context.canonicalCwds.get(cwd);
    if (canonical === undefined) return NEEDS_READ;
    if (!context.cwdFilters.includes(canonical)) return null;
  }
  if (head.historyBase !== null) return NEEDS_READ;
  return listItemOf(screened, context, head.preview, mtimeMs);
}
