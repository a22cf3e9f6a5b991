import {
  decodeThreadCursor,
  encodeThreadCursor,
  isAfterThreadCursor,
  type SessionSource,
  type SortDirection,
  type ThreadSortKey,
} from '@skein/protocol';
import { RolloutError } from './errors.js';
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
import {
  type ItemContext,
  NEEDS_READ,
  summarizeCachedRolloutFile,
  summarizeRolloutFile,
  type ThreadListItem,
} from './listing-items.js';
import { findThreadNamesByIds, readSessionIndexNames } from './session-index.js';

/*
 * Filesystem listing and lookup (spec rollout-state §4.1–§4.6), without a state DB. Results
 * carry the rollout path of every item so a DB-backed lister can read-repair from them.
 */

export { type ItemContext, summarizeRolloutFile, type ThreadListItem } from './listing-items.js';

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
    canonicalCwds: new Map(),
  };
  const budget = new ScanBudget(options.maxScanEntries ?? MAX_SCAN_ENTRIES);
  // Codex keeps the threads whose session-index name contains the term (an empty term: every
  // named thread).
  const names = options.searchTerm !== undefined ? await readSessionIndexNames(codexHome) : null;
  // No name holds the term: no file can match, so none is read (a term that only the DB's
  // titles and previews hold made a default listing read every head in the home).
  if (names !== null && !someNameContains(names, options.searchTerm as string)) return empty;

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

  /**
   * Builds heads in small batches, appending in candidate order: the cached ones at once, the
   * others read concurrently. Candidates come a folder at a time.
   */
  const consume = async (
    folders: AsyncIterable<readonly Candidate[]> | Iterable<readonly Candidate[]>,
  ) => {
    let batch: Candidate[] = [];
    const flush = async (): Promise<boolean> => {
      const mtimeOf = (c: Candidate) => (sortKey === 'createdAt' ? undefined : c.keyMs);
      const built = batch.map((c) => summarizeCachedRolloutFile(c.path, context, mtimeOf(c)));
      const reads = built.flatMap((item, index) => (item === NEEDS_READ ? [index] : []));
      if (reads.length > 0) {
        const read = await Promise.all(
          reads.map((index) => {
            const c = batch[index] as Candidate;
            return summarizeRolloutFile(c.path, context, mtimeOf(c));
          }),
        );
        reads.forEach((index, at) => {
          built[index] = read[at] as ThreadListItem | null;
        });
      }
      scanned += batch.length;
      batch = [];
      for (const item of built) {
        if (item === NEEDS_READ || !accept(item)) continue;
        if (items.length === pageSize) {
          more = true;
          return false;
        }
        items.push(item as ThreadListItem);
      }
      return true;
    };
    for await (const folder of folders) {
      for (const candidate of folder) {
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
    }
    if (batch.length > 0) await flush();
  };

  if (sortKey === 'createdAt') {
    if (archived) {
      await consume([await flatCandidates(root, direction, cursor, budget)]);
    } else {
      await consume(nestedCandidates(root, direction, cursor, budget));
    }
  } else {
    const candidates = await allCandidates(root, !archived, direction, budget);
    await stampMtimes(candidates);
    candidates.sort((a, b) =>
      compareKeys(a.keyMs, a.parsed.threadId, b.keyMs, b.parsed.threadId, direction),
    );
    await consume([candidates]);
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

function someNameContains(names: ReadonlyMap<string, string>, term: string): boolean {
  for (const name of names.values()) if (name.includes(term)) return true;
  return false;
}
