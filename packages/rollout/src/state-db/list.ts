import {
  defaultThreadMetadata,
  getThreads,
  type ListThreadsParams,
  listThreads,
  type StateDb,
  type ThreadMetadata,
  type ThreadSortKey,
} from '@skein/state';
import { plainRolloutPath, resolveRolloutFile } from '../layout.js';
import {
  INTERACTIVE_SESSION_SOURCES,
  type ListThreadsOptions,
  listThreadsFromFiles,
  type ThreadListItem,
} from '../listing.js';
import { encodeSessionSource } from '../metadata.js';
import { CwdNormalizer } from './files.js';
import { readRepairRolloutPath, reconcileRolloutFile } from './repair.js';

export interface ListThreadsWithDbOptions extends Omit<ListThreadsOptions, 'sortKey'> {
  sortKey?: ThreadSortKey;
  stateDb?: StateDb | undefined;
  /** Answer from the state DB alone (app-server `useStateDbOnly`); a DB failure → empty page. */
  useStateDbOnly?: boolean;
}

export interface ThreadMetadataPage {
  items: ThreadMetadata[];
  nextCursor: string | null;
  /** Anchor of the first item for the opposite direction (DB pages only). */
  backwardsCursor: string | null;
  /** Where the page came from. */
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
  return {
    ...meta,
    updatedAtMs: item.updatedAtMs,
    recencyAtMs: item.updatedAtMs,
    cwd: item.cwd,
    cliVersion: item.cliVersion ?? '',
    title: item.firstUserMessage ?? '',
    name: item.name,
    preview: item.preview,
    firstUserMessage: item.firstUserMessage ?? '',
    archived: item.archived,
    gitSha: item.gitSha,
    gitBranch: item.gitBranch,
    gitOriginUrl: item.gitOriginUrl,
    parentThreadId: item.parentThreadId,
    forkedFromId: item.forkedFromId,
    agentNickname: item.agentNickname,
    agentRole: item.agentRole,
    historyMode: item.historyMode,
    originator: item.originator,
  };
}

function dbParams(options: ListThreadsWithDbOptions): ListThreadsParams {
  const sources = options.allowedSources ?? INTERACTIVE_SESSION_SOURCES;
  return {
    pageSize: Math.max(1, Math.min(1000, Math.floor(options.pageSize))),
    cursor: options.cursor ?? null,
    sortKey: options.sortKey ?? 'created_at',
    sortDirection: options.sortDirection ?? 'desc',
    archived: options.archived ?? false,
    sources: sources.map(encodeSessionSource),
    modelProviders: options.modelProviders ?? null,
    cwds: options.cwdFilters ? options.cwdFilters.map((c) => cwds.normalize(c)) : null,
    searchTerm: options.searchTerm ?? null,
  };
}

/**
 * One DB page whose rows all point at files that exist (a stale row is skipped, and kept: a
 * later find-by-id repairs it). Fetches further pages to fill up, a bounded number of times.
 */
async function listFromDb(
  db: StateDb,
  options: ListThreadsWithDbOptions,
): Promise<ThreadMetadataPage> {
  const params = dbParams(options);
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
    const present = await Promise.all(page.items.map((t) => resolveRolloutFile(t.rolloutPath)));
    page.items.forEach((item, i) => {
      if (present[i] !== null) items.push(item);
    });
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
  return { items, nextCursor: cursor, backwardsCursor, origin: 'state_db', numScanned: scanned };
}

/**
 * Thread listing with an optional state DB (spec rollout-state §4.5). Without a DB: the
 * filesystem listing. With `useStateDbOnly`: the DB alone. Otherwise scan-and-repair: the
 * filesystem page is read first and every thread on it is read-repaired into the DB (or fully
 * reconciled when searching, since a search reads name/title/preview), then the page is the
 * DB's, which also has what only the DB knows (names, git updates, recency). A DB failure
 * falls back to the filesystem page.
 */
export async function listThreadsWithDb(
  codexHome: string,
  options: ListThreadsWithDbOptions,
): Promise<ThreadMetadataPage> {
  if (options.cwdFilters !== undefined && options.cwdFilters.length === 0) return EMPTY('state_db');
  const db = options.stateDb;
  if (db !== undefined && options.useStateDbOnly) {
    try {
      return await listFromDb(db, options);
    } catch {
      return EMPTY('state_db');
    }
  }
  const fsSort =
    options.sortKey === 'created_at' || options.sortKey === undefined ? 'created_at' : 'updated_at';
  const { stateDb: _db, useStateDbOnly: _only, ...fsOptions } = options;
  const defaultProvider = options.defaultProvider ?? db?.defaultProvider ?? 'openai';
  if (db === undefined) {
    const page = await listThreadsFromFiles(codexHome, { ...fsOptions, sortKey: fsSort });
    return {
      items: page.items.map((item) => threadListItemToMetadata(item, defaultProvider)),
      nextCursor: page.nextCursor,
      backwardsCursor: null,
      origin: 'filesystem',
      numScanned: page.numScannedFiles,
    };
  }
  // Over-fetch so the DB page (which may order a little differently) finds its rows repaired.
  const fsPage = await listThreadsFromFiles(codexHome, {
    ...fsOptions,
    sortKey: fsSort,
    pageSize: Math.min(2000, options.pageSize * 2),
  });
  try {
    const known = await getThreads(
      db.ctx,
      fsPage.items.map((item) => item.threadId),
    );
    for (const item of fsPage.items) {
      const row = known.get(item.threadId);
      const archived = options.archived ?? false;
      if (options.searchTerm) {
        await reconcileRolloutFile(db, item.path, { codexHome, archived, defaultProvider });
      } else if (
        !row ||
        row.rolloutPath !== plainRolloutPath(item.path) ||
        row.archived !== archived
      ) {
        await readRepairRolloutPath(db, item.path, {
          threadId: item.threadId,
          codexHome,
          archived,
          defaultProvider,
        });
      }
    }
    return await listFromDb(db, options);
  } catch {
    const items = fsPage.items.slice(0, options.pageSize);
    return {
      items: items.map((item) => threadListItemToMetadata(item, defaultProvider)),
      nextCursor: fsPage.nextCursor,
      backwardsCursor: null,
      origin: 'filesystem',
      numScanned: fsPage.numScannedFiles,
    };
  }
}
