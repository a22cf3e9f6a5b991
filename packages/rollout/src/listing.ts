import {
  decodeThreadCursor,
  encodeSessionSource,
  encodeThreadCursor,
  isAfterThreadCursor,
  isThreadId,
  parseFileTimestamp,
  parseRfc3339Ms,
  parseThreadId,
  type SessionSource,
  type SessionSourceJson,
  type SortDirection,
  type ThreadId,
  type ThreadSortKey,
} from '@skein/protocol';
import { RolloutError } from './errors.js';
import { findThreadPath } from './find-thread-path.js';
import { type RolloutHeadSummary, readHeadSummary } from './head-summary.js';
import { archivedSessionsDir, normalizeCwd, parseRolloutFileName, sessionsDir } from './layout.js';
import {
  allCandidates,
  type Candidate,
  compareKeys,
  flatCandidates,
  nestedCandidates,
  ScanBudget,
  stampMtimes,
} from './listing-candidates.js';
import { threadSpawnOf } from './metadata.js';
import type { SessionMetaLine } from './schema.js';
import { findThreadNamesByIds, readSessionIndexNames } from './session-index.js';

/*
 * Filesystem listing and lookup (spec rollout-state §4.1–§4.6), without a state DB. Results
 * carry the rollout path of every item so a DB-backed lister can read-repair from them.
 */

/** Directory entries examined per request before stopping (Codex: MAX_SCAN_ENTRIES). */
export const MAX_SCAN_ENTRIES = 10_000;

/** Sources listed when the caller gives no filter (`exec` and sub-agents are hidden). */
export const INTERACTIVE_SESSION_SOURCES: readonly SessionSource[] = [
  'cli',
  'vscode',
  { custom: 'atlas' },
  { custom: 'chatgpt' },
];

/**
 * `listThreadsFromFiles`: page size and cursor, sort, the archived collection, and `thread/list`'s
 * filters.
 */
export interface ListThreadsOptions {
  pageSize: number;
  /** Opaque cursor from a previous page (`ts|uuid`; `ts` alone is accepted). */
  cursor?: string | null | undefined;
  /**
   * Creation (the file name's time) or last update (the file's mtime); the files know no
   * recency, so `recencyAt` sorts by last update.
   */
  sortKey?: ThreadSortKey;
  sortDirection?: SortDirection;
  /** Allowed `session_meta.source` values; undefined = interactive sources; [] = all. */
  allowedSources?: readonly SessionSource[] | undefined;
  /** Allowed providers; undefined or [] = all. */
  modelProviders?: readonly string[] | undefined;
  /** Provider assumed for sessions that name none (matters for `modelProviders`). */
  defaultProvider?: string;
  /** Only threads whose cwd equals one of these; [] = nothing. */
  cwdFilters?: readonly string[] | undefined;
  /** List `archived_sessions/` instead of `sessions/`. */
  archived?: boolean;
  /** Keep threads whose session-index name contains this (case-sensitive). */
  searchTerm?: string | undefined;
  /** Scan cap override (tests). */
  maxScanEntries?: number;
}

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

/** A page of threads listed from the files: items, next cursor, and how many files were scanned. */
export interface ThreadsPage {
  items: ThreadListItem[];
  /** Resumes after the last item, same direction; null on the last page. */
  nextCursor: string | null;
  /**
   * The first item's key: listing with this cursor in the opposite direction returns the
   * items before this page (nearest first). Null for an empty page.
   */
  backwardsCursor: string | null;
  /** Rollout files whose head was read. */
  numScannedFiles: number;
  reachedScanCap: boolean;
}

// ---- Building items ----

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
  if (
    context.cwdFilters !== undefined &&
    !context.cwdFilters.includes(meta.cwd) &&
    !context.cwdFilters.includes(await normalizeCwd(meta.cwd))
  ) {
    return null;
  }
  let preview = head.preview;
  if (head.historyBase !== null) {
    preview = (await inheritedPreview(context.codexHome, head.historyBase.thread_id)) ?? preview;
  }
  // Codex lists an archived thread that never had a message (its preview empty); an active
  // one only once it has one.
  if (preview === null && !context.archived) return null;
  const updatedAtMs = mtimeMs ?? head.file.mtimeMs;
  return {
    path: head.file.path,
    threadId: head.threadId,
    preview: preview ?? '',
    firstUserMessage: head.firstUserMessage,
    cwd: meta.cwd,
    source,
    sourceEncoded: facts.sourceEncoded,
    modelProvider: provider,
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

/**
 * One page of threads from the files (no DB). Created-at listing walks the date directories
 * lazily; updated-at listing stats every candidate (up to the scan cap) and sorts by mtime.
 * Both order by (timestamp, uuid) and resume strictly after the cursor, so threads sharing a
 * second are never skipped or repeated across pages.
 */
export async function listThreadsFromFiles(
  codexHome: string,
  options: ListThreadsOptions,
): Promise<ThreadsPage> {
  const pageSize = Math.max(1, Math.floor(options.pageSize));
  const sortKey = options.sortKey ?? 'createdAt';
  const direction = options.sortDirection ?? 'desc';
  const cursor = options.cursor ? decodeThreadCursor(options.cursor) : null;
  if (options.cursor && cursor === null) {
    throw new RolloutError('InvalidCursor', `invalid cursor: ${options.cursor}`);
  }
  const empty: ThreadsPage = {
    items: [],
    nextCursor: null,
    backwardsCursor: null,
    numScannedFiles: 0,
    reachedScanCap: false,
  };
  if (options.cwdFilters !== undefined && options.cwdFilters.length === 0) return empty;
  const archived = options.archived ?? false;
  const root = archived ? archivedSessionsDir(codexHome) : sessionsDir(codexHome);
  const context: ItemContext = {
    codexHome,
    archived,
    allowedSources: options.allowedSources ?? INTERACTIVE_SESSION_SOURCES,
    modelProviders: options.modelProviders ?? [],
    defaultProvider: options.defaultProvider,
    cwdFilters:
      options.cwdFilters === undefined
        ? undefined
        : [
            ...options.cwdFilters,
            ...(await Promise.all(options.cwdFilters.map((cwd) => normalizeCwd(cwd)))),
          ],
  };
  const budget = new ScanBudget(options.maxScanEntries ?? MAX_SCAN_ENTRIES);
  // Codex keeps the threads whose session-index name contains the term (an empty term: every
  // named thread).
  const names = options.searchTerm !== undefined ? await readSessionIndexNames(codexHome) : null;

  const items: ThreadListItem[] = [];
  let scanned = 0;
  let more = false;

  const accept = (item: ThreadListItem | null): boolean => {
    if (item === null) return false;
    if (names !== null) {
      const name = names.get(item.threadId);
      if (name === undefined || !name.includes(options.searchTerm as string)) return false;
    }
    return true;
  };

  /** Builds heads in small concurrent batches, appending in candidate order. */
  const consume = async (candidates: AsyncIterable<Candidate> | Iterable<Candidate>) => {
    let batch: Candidate[] = [];
    const flush = async (): Promise<boolean> => {
      const built = await Promise.all(
        batch.map((c) =>
          summarizeRolloutFile(c.path, context, sortKey === 'createdAt' ? undefined : c.keyMs),
        ),
      );
      scanned += batch.length;
      batch = [];
      for (const item of built) {
        if (!accept(item)) continue;
        if (items.length === pageSize) {
          more = true;
          return false;
        }
        items.push(item as ThreadListItem);
      }
      return true;
    };
    for await (const candidate of candidates) {
      if (
        cursor !== null &&
        !isAfterThreadCursor(candidate.keyMs, candidate.parsed.threadId, cursor, direction)
      ) {
        continue;
      }
      batch.push(candidate);
      if (batch.length >= Math.min(64, pageSize - items.length + 1)) {
        if (!(await flush())) return;
      }
    }
    if (batch.length > 0) await flush();
  };

  if (sortKey === 'createdAt') {
    if (archived) {
      await consume(await flatCandidates(root, direction, cursor, budget));
    } else {
      await consume(nestedCandidates(root, direction, cursor, budget));
    }
  } else {
    const candidates = await allCandidates(root, !archived, direction, budget);
    await stampMtimes(candidates);
    candidates.sort((a, b) =>
      compareKeys(a.keyMs, a.parsed.threadId, b.keyMs, b.parsed.threadId, direction),
    );
    await consume(candidates);
  }

  const indexNames =
    names ??
    (await findThreadNamesByIds(
      codexHome,
      items.map((item) => item.threadId),
    ));
  for (const item of items) item.name = indexNames.get(item.threadId) ?? null;

  const keyOf = (item: ThreadListItem): string =>
    encodeThreadCursor({
      timestampMs:
        sortKey === 'createdAt'
          ? (parseRolloutFileName(item.path)?.timestampMs ?? item.createdAtMs)
          : item.updatedAtMs,
      threadId: item.threadId,
    });
  const last = items.at(-1);
  const first = items[0];
  return {
    items,
    nextCursor: last !== undefined && (more || budget.capped) ? keyOf(last) : null,
    backwardsCursor: first === undefined ? null : keyOf(first),
    numScannedFiles: scanned,
    reachedScanCap: budget.capped,
  };
}
