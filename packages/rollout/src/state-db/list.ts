import {
  encodeSessionSource,
  encodeThreadCursor,
  type ThreadId,
  type ThreadSortKey,
} from '@skein/protocol';
import {
  defaultThreadMetadata,
  getThreadLocations,
  getThreads,
  type ListThreadsParams,
  listThreads,
  type StateDb,
  type ThreadLocation,
  type ThreadMetadata,
  threadSortTime,
} from '@skein/state';
import { pageEntryLookup } from '../dir-cache.js';
import {
  HomeBoundary,
  parseRolloutFileName,
  plainRolloutPath,
  rolloutPathInHome,
} from '../layout.js';
import {
  INTERACTIVE_SESSION_SOURCES,
  type ListThreadsOptions,
  listThreadsFromFiles,
  type ThreadListItem,
} from '../listing.js';
import { CwdNormalizer } from './files.js';
import { Rederiver, rederive, withRederivedOriginators } from './rederive.js';
import { readRepairRolloutPath, rowPointsAtFile } from './repair.js';
import { LocationCheck } from './verified-locations.js';

/**
 * `listThreadsWithDb`: the file listing's options plus the state DB, a sort key it knows, and
 * whether to answer from the DB alone.
 */
export interface ListThreadsWithDbOptions extends Omit<ListThreadsOptions, 'sortKey'> {
  sortKey?: ThreadSortKey;
  stateDb?: StateDb | undefined;
  /** Answer from the state DB alone (app-server `useStateDbOnly`); a DB failure → empty page. */
  useStateDbOnly?: boolean;
}

/** A page of thread metadata from `listThreadsWithDb`, with cursors. */
export interface ThreadMetadataPage {
  items: ThreadMetadata[];
  /**
   * Continues after the last item, as Codex 0.169 prints it: a page read from the files resumes
   * at the file-name second (`2026-11-22T03:37:16Z|<id>`) or the file mtime; a DB page at the
   * sort column's milliseconds, trailing zeros dropped (`2026-11-22T03:37:18.04Z|<id>`).
   */
  nextCursor: string | null;
  /** Anchor of the first item for the opposite direction (DB pages only). */
  backwardsCursor: string | null;
  /**
   * Where the page came from. `filesystem`: the rows are the rollout heads (ids, order, times,
   * cwd, source, versions), with what only the DB knows laid over them (see `fileRowWithDb`).
   */
  origin: 'state_db' | 'filesystem';
  /** Rows or files examined. */
  numScanned: number;
}

const cwds = new CwdNormalizer();
const EMPTY = (origin: ThreadMetadataPage['origin']): ThreadMetadataPage => ({
  items: [],
  nextCursor: null,
  backwardsCursor: null,
  origin,
  numScanned: 0,
});

/** A filesystem list item as thread metadata (fields the head does not carry get defaults). */
export function threadListItemToMetadata(
  item: ThreadListItem,
  defaultProvider: string,
): ThreadMetadata {
  const meta = defaultThreadMetadata(
    item.threadId,
    plainRolloutPath(item.path),
    item.createdAtMs,
    item.sourceEncoded,
    item.modelProvider ?? defaultProvider,
  );
  // The defaults are a fresh record: the head's facts are set in place.
  meta.updatedAtMs = item.updatedAtMs;
  meta.recencyAtMs = item.updatedAtMs;
  meta.cwd = item.cwd;
  meta.cliVersion = item.cliVersion ?? '';
  meta.title = item.firstUserMessage ?? '';
  meta.name = item.name;
  meta.preview = item.preview;
  meta.firstUserMessage = item.firstUserMessage ?? '';
  meta.archived = item.archived;
  meta.gitSha = item.gitSha;
  meta.gitBranch = item.gitBranch;
  meta.gitOriginUrl = item.gitOriginUrl;
  meta.parentThreadId = item.parentThreadId;
  meta.forkedFromId = item.forkedFromId;
  meta.agentNickname = item.agentNickname;
  meta.agentRole = item.agentRole;
  meta.historyMode = item.historyMode;
  meta.originator = item.originator;
  return meta;
}

/**
 * A row of a page read from the files, as Codex 0.169 answers it: what the rollout head says,
 * with the DB row laid over where the head has nothing or the DB knows better — the model and
 * reasoning effort, recency, the git fields the DB holds (each one; a field it lacks keeps the
 * rollout's), the title and name (for naming), and for a paginated thread the preview (its file
 * may hold only a suffix of the history, so its display metadata lives in SQLite).
 */
export function fileRowWithDb(
  item: ThreadListItem,
  row: ThreadMetadata | undefined,
  defaultProvider: string,
): ThreadMetadata {
  // A fresh record: the DB's facts are laid over it in place.
  const merged = threadListItemToMetadata(item, defaultProvider);
  if (row === undefined) return merged;
  merged.title = row.title;
  merged.name = row.name;
  merged.firstUserMessage = row.firstUserMessage;
  if (item.historyMode === 'paginated' && row.preview !== '') merged.preview = row.preview;
  merged.model = row.model;
  merged.reasoningEffort = row.reasoningEffort;
  merged.recencyAtMs = row.recencyAtMs;
  merged.threadSource = row.threadSource;
  merged.tokensUsed = row.tokensUsed;
  merged.sandboxPolicy = row.sandboxPolicy;
  merged.approvalMode = row.approvalMode;
  merged.memoryMode = row.memoryMode;
  merged.gitSha = row.gitSha ?? merged.gitSha;
  merged.gitBranch = row.gitBranch ?? merged.gitBranch;
  merged.gitOriginUrl = row.gitOriginUrl ?? merged.gitOriginUrl;
  return merged;
}

function dbParams(options: ListThreadsWithDbOptions): ListThreadsParams {
  const sources = options.allowedSources ?? INTERACTIVE_SESSION_SOURCES;
  const archived = options.archived ?? false;
  return {
    pageSize: Math.max(1, Math.min(1000, Math.floor(options.pageSize))),
    cursor: options.cursor ?? null,
    sortKey: options.sortKey ?? 'createdAt',
    sortDirection: options.sortDirection ?? 'desc',
    archived,
    sources: sources.map(encodeSessionSource),
    modelProviders:
      options.modelProviders && options.modelProviders.length > 0 ? options.modelProviders : null,
    cwds: options.cwdFilters ? options.cwdFilters.map((c) => cwds.normalize(c)) : null,
    searchTerm: options.searchTerm ?? null,
    // Codex's archived listing also shows never-messaged threads (their preview is empty).
    includeHidden: archived,
  };
}

/** A cursor as Codex prints it: `<RFC 3339, fraction without trailing zeros>|<id>`. */
function codexCursor(timestampMs: number, id: string): string {
  return encodeThreadCursor({ timestampMs, threadId: id as ThreadId });
}

/** Whether a row matches a search as Codex 0.169's DB does: in its name, title or preview. */
function rowMatchesSearch(row: ThreadMetadata, term: string): boolean {
  return (row.name ?? '').includes(term) || row.title.includes(term) || row.preview.includes(term);
}

/** Most DB rows read per query while searching (see `listFromDbSearching`). */
const SEARCH_SCAN_PAGE = 200;
/** Upper bound on queries for one searched page. */
const MAX_SEARCH_ROUNDS = 500;

/**
 * A searched DB page. Codex 0.169 matches the term in a row's name, title and preview (a fork
 * by reference is found by the preview it inherits), as the state query does; rows whose file
 * is gone are skipped and the page filled up from the next ones, in the listing's order.
 */
async function listFromDbSearching(
  db: StateDb,
  codexHome: string,
  options: ListThreadsWithDbOptions,
  term: string,
): Promise<ThreadMetadataPage> {
  const params = dbParams(options);
  const pageSize = params.pageSize;
  const inHome = pageRowsInHome(codexHome);
  const found: ThreadMetadata[] = [];
  let cursor = params.cursor ?? null;
  let scanned = 0;
  // The first query asks for the rows the page needs (one more tells whether a next page
  // exists): SQLite stops walking the table once it has them, where a fixed 200 made a term
  // with a hundred matches walk every row. Rows the page cannot use (their files gone) make
  // the next queries ask for more.
  let want = pageSize + 1;
  for (let round = 0; round < MAX_SEARCH_ROUNDS && found.length <= pageSize; round += 1) {
    const page = await listThreads(db.ctx, {
      ...params,
      searchTerm: term,
      cursor,
      pageSize: Math.min(want, SEARCH_SCAN_PAGE),
    });
    want *= 2;
    scanned += page.numScanned;
    for (const item of page.items) {
      if (found.length > pageSize) break;
      if (!rowMatchesSearch(item, term)) continue;
      const row = inHome(item);
      if (row !== null) found.push(row);
    }
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  const items = found.slice(0, pageSize);
  const last = items[items.length - 1];
  const sortKey = params.sortKey ?? 'createdAt';
  return {
    items,
    nextCursor:
      found.length > pageSize && last !== undefined
        ? codexCursor(threadSortTime(last, sortKey), last.id)
        : null,
    backwardsCursor: null,
    origin: 'state_db',
    numScanned: scanned,
  };
}

/**
 * For one page of DB rows: a row as this home has it (its path re-rooted here; the row itself
 * when that changes nothing), or null when its file is not one of this home's — a row of a
 * copied home naming the old one (see the sync), a missing file, or a link leading out.
 */
function pageRowsInHome(codexHome: string): (item: ThreadMetadata) => ThreadMetadata | null {
  const boundary = new HomeBoundary(codexHome);
  const entries = pageEntryLookup();
  return (item) => {
    const path = rolloutPathInHome(codexHome, item.rolloutPath);
    if (path === null || !boundary.rolloutInside(path, entries)) return null;
    return path === item.rolloutPath ? item : { ...item, rolloutPath: path };
  };
}

/**
 * One DB page whose rows all point at files that exist (a stale row is skipped, and kept: a
 * later find-by-id repairs it). Fetches further pages to fill up, a bounded number of times.
 */
async function listFromDb(
  db: StateDb,
  codexHome: string,
  options: ListThreadsWithDbOptions,
): Promise<ThreadMetadataPage> {
  if (options.searchTerm !== undefined && options.searchTerm !== '') {
    return listFromDbSearching(db, codexHome, options, options.searchTerm);
  }
  const params = dbParams(options);
  const inHome = pageRowsInHome(codexHome);
  const items: ThreadMetadata[] = [];
  let cursor = params.cursor ?? null;
  let scanned = 0;
  let backwardsCursor: string | null = null;
  for (let round = 0; round < 8; round += 1) {
    const page = await listThreads(db.ctx, {
      ...params,
      cursor,
      pageSize: params.pageSize - items.length,
    });
    scanned += page.numScanned;
    if (round === 0) backwardsCursor = page.backwardsCursor;
    // Synchronous stats: a page of them costs far less than scheduling as many promises.
    for (const item of page.items) {
      const row = inHome(item);
      if (row !== null) items.push(row);
    }
    if (page.nextCursor === null || items.length >= params.pageSize) {
      return {
        items,
        nextCursor: page.nextCursor,
        backwardsCursor,
        origin: 'state_db',
        numScanned: scanned,
      };
    }
    cursor = page.nextCursor;
  }
  return {
    items,
    nextCursor: cursor,
    backwardsCursor,
    origin: 'state_db',
    numScanned: scanned,
  };
}

/** Where the DB rows of a page of files say their files are, by thread id. */
function locationsById(
  db: StateDb,
  items: readonly ThreadListItem[],
): Promise<Map<string, ThreadLocation>> {
  return getThreadLocations(
    db.ctx,
    items.map((item) => item.threadId),
  );
}

/** Where a page of files resumes: the file-name second (created) or the mtime (updated). */
function fileCursorOf(item: ThreadListItem, sortKey: 'createdAt' | 'updatedAt'): string {
  const ms =
    sortKey === 'createdAt'
      ? (parseRolloutFileName(item.path)?.timestampMs ?? item.createdAtMs)
      : item.updatedAtMs;
  return codexCursor(ms, item.threadId);
}

/**
 * Thread listing with an optional state DB, as Codex 0.169 answers `thread/list` (spec
 * rollout-state §4.5, observed on the real binary):
 *
 * - `useStateDbOnly`: the DB page alone; nothing is repaired.
 * - Otherwise the files are walked first (a `recency_at` listing walks them by mtime) — newest
 *   first, twice the page (the overfetch Codex repairs from); oldest first, the page — filtered
 *   by what each rollout head says (source,
 *   provider, cwd; a search by the session-index names). Every file found gets its row's path
 *   and archived flag repaired (a search re-derives the whole row). Then the DB page with the
 *   same filters and cursor is read, and:
 *   - with a search, when the DB page has rows or a cursor was given: its rows are re-derived
 *     from their files and the DB page is read again and returned;
 *   - with any filter (sources, providers, cwd — the app-server always sends sources): the rows
 *     only the DB page holds are re-derived from their files (a fork's preview then becomes its
 *     own first message), and the files' page is returned, DB facts laid over (`fileRowWithDb`);
 *     a `recency_at` listing returns the DB page read again instead;
 *   - with no filter at all: the DB page.
 * Without a DB: the files' page.
 */
export async function listThreadsWithDb(
  codexHome: string,
  options: ListThreadsWithDbOptions,
): Promise<ThreadMetadataPage> {
  if (options.cwdFilters !== undefined && options.cwdFilters.length === 0) return EMPTY('state_db');
  const db = options.stateDb;
  const sortKey = options.sortKey ?? 'createdAt';
  if (db !== undefined && options.useStateDbOnly) {
    try {
      return withRederivedOriginators(db, await listFromDb(db, codexHome, options));
    } catch {
      return EMPTY('state_db');
    }
  }
  const fsSort = sortKey === 'createdAt' ? 'createdAt' : 'updatedAt';
  const { stateDb: _db, useStateDbOnly: _only, ...fsOptions } = options;
  const defaultProvider = options.defaultProvider ?? db?.defaultProvider ?? 'openai';
  const pageSize = Math.max(1, Math.floor(options.pageSize));
  const direction = options.sortDirection ?? 'desc';
  const archived = options.archived ?? false;
  const search = options.searchTerm ?? undefined;
  const scan = await listThreadsFromFiles(codexHome, {
    ...fsOptions,
    sortKey: fsSort,
    pageSize: direction === 'desc' ? pageSize * 2 : pageSize,
    ...(search === undefined ? {} : { searchTerm: search }),
  });
  const fileItems = scan.items.slice(0, pageSize);
  const fileNext =
    scan.items.length > pageSize
      ? fileCursorOf(fileItems[fileItems.length - 1] as ThreadListItem, fsSort)
      : scan.nextCursor;
  /** The files' page as the files alone say it (no DB, or the DB failed mid-listing). */
  const filesOnly = (): ThreadMetadataPage => ({
    items: fileItems.map((item) => threadListItemToMetadata(item, defaultProvider)),
    nextCursor: fileNext,
    backwardsCursor: null,
    origin: 'filesystem',
    numScanned: scan.numScannedFiles,
  });
  if (db === undefined) return filesOnly();
  const repair = {
    codexHome,
    archived,
    defaultProvider,
    inheritPreview: false,
    keepRowGit: true,
  } as const;
  try {
    // Where the scanned files' rows point, in one query for the files an earlier listing did
    // not vouch for (a repair changes only its own row: a thread id met again, two files of one
    // thread, reads its row afresh).
    const check =
      search === undefined ? LocationCheck.begin(db, `${archived}:${codexHome}`, scan.items) : null;
    const known =
      check === null
        ? null
        : await locationsById(
            db,
            scan.items.filter((item) => !check.vouchesFor(item)),
          );
    const repaired = new Set<string>();
    for (const item of scan.items) {
      if (check === null || known === null) {
        await rederive(db, item.path, repair);
        continue;
      }
      if (check.vouchesFor(item)) continue;
      const row = repaired.has(item.threadId) ? undefined : (known.get(item.threadId) ?? null);
      repaired.add(item.threadId);
      if (row != null && rowPointsAtFile(row, item.path, repair)) {
        check.found(item);
        continue;
      }
      await readRepairRolloutPath(db, item.path, { ...repair, threadId: item.threadId, row });
    }
    check?.finish();
    const dbPage = await listFromDb(db, codexHome, options);
    const fileIds = new Set(scan.items.map((item) => item.threadId as string));
    const rederiver = new Rederiver(db, repair);
    if (search !== undefined && (dbPage.items.length > 0 || options.cursor)) {
      let rederived = false;
      for (const row of dbPage.items) if (await rederiver.rederive(row)) rederived = true;
      // Nothing re-derived: the DB page stands as read.
      return withRederivedOriginators(
        db,
        rederived ? await listFromDb(db, codexHome, options) : dbPage,
      );
    }
    const filtered =
      (options.allowedSources ?? INTERACTIVE_SESSION_SOURCES).length > 0 ||
      (options.modelProviders !== undefined && options.modelProviders.length > 0) ||
      options.cwdFilters !== undefined ||
      search !== undefined;
    if (!filtered) return withRederivedOriginators(db, dbPage);
    let rederived = false;
    for (const row of dbPage.items) {
      if (!fileIds.has(row.id) && (await rederiver.rederive(row))) rederived = true;
    }
    // The files cannot order by recency: that listing answers with the DB page, as re-derived.
    if (sortKey === 'recencyAt') {
      return withRederivedOriginators(
        db,
        rederived ? await listFromDb(db, codexHome, options) : dbPage,
      );
    }
    // The rows of the files' page: those the DB page read after the repairs, unless a row was
    // re-derived since; the others read now.
    const rows = new Map<string, ThreadMetadata>();
    if (!rederived) for (const row of dbPage.items) rows.set(row.id, row);
    const missing = fileItems.filter((item) => !rows.has(item.threadId)).map((i) => i.threadId);
    if (missing.length > 0) {
      for (const [id, row] of await getThreads(db.ctx, missing)) rows.set(id, row);
    }
    return {
      items: fileItems.map((item) => fileRowWithDb(item, rows.get(item.threadId), defaultProvider)),
      nextCursor: fileNext,
      backwardsCursor: null,
      origin: 'filesystem',
      numScanned: scan.numScannedFiles,
    };
  } catch {
    return filesOnly();
  }
}
