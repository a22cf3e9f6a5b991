import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultThreadMetadata,
  getThreads,
  type ListThreadsParams,
  listThreads,
  type StateDb,
  type ThreadId,
  type ThreadMetadata,
  type ThreadSortKey,
} from '@skein/state';
import {
  archivedSessionsDir,
  COMPRESSED_SUFFIX,
  parseRolloutFileName,
  plainRolloutPath,
  rolloutPathInHome,
  sessionsDir,
} from '../layout.js';
import {
  INTERACTIVE_SESSION_SOURCES,
  type ListThreadsOptions,
  listThreadsFromFiles,
  type ThreadListItem,
} from '../listing.js';
import { encodeSessionSource } from '../metadata.js';
import { CwdNormalizer } from './files.js';
import { readRepairRolloutPath, reconcileRolloutFile } from './repair.js';

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

function rolloutFileExists(path: string): boolean {
  return (
    statSync(path, { throwIfNoEntry: false }) !== undefined ||
    statSync(path + COMPRESSED_SUFFIX, { throwIfNoEntry: false }) !== undefined
  );
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
    // Synchronous stats: a page of them costs far less than scheduling as many promises.
    for (const item of page.items) {
      // Only files of this home (a row of a copied home names the old one: see the sync).
      const path = rolloutPathInHome(codexHome, item.rolloutPath);
      if (path !== null && rolloutFileExists(path)) items.push({ ...item, rolloutPath: path });
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
  return { items, nextCursor: cursor, backwardsCursor, origin: 'state_db', numScanned: scanned };
}

/**
 * Thread listing with an optional state DB (spec rollout-state §4.5). Without a DB: the
 * filesystem listing. With `useStateDbOnly`: the DB alone. Otherwise scan-and-repair: the DB is
 * first brought up to date with the files (`syncCollection`: directory walk and stats, reading
 * only files that are new, moved or written since), then the page is the DB's, which also has
 * what only the DB knows (git updates, recency, read state); files behind the page that changed
 * since they were last checked are reconciled and the page queried again. A DB failure falls
 * back to the filesystem page.
 */
export async function listThreadsWithDb(
  codexHome: string,
  options: ListThreadsWithDbOptions,
): Promise<ThreadMetadataPage> {
  if (options.cwdFilters !== undefined && options.cwdFilters.length === 0) return EMPTY('state_db');
  const db = options.stateDb;
  if (db !== undefined && options.useStateDbOnly) {
    try {
      return await listFromDb(db, codexHome, options);
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
  const archived = options.archived ?? false;
  try {
    await syncCollection(db, codexHome, archived, defaultProvider);
    return await listFromDb(db, codexHome, options);
  } catch {
    const fsPage = await listThreadsFromFiles(codexHome, { ...fsOptions, sortKey: fsSort });
    return {
      items: fsPage.items.map((item) => threadListItemToMetadata(item, defaultProvider)),
      nextCursor: fsPage.nextCursor,
      backwardsCursor: null,
      origin: 'filesystem',
      numScanned: fsPage.numScannedFiles,
    };
  }
}

// ---- Scan-and-repair without reading heads ----------------------------------------------------

/** One rollout file found by the directory walk. */
interface TreeFile {
  /** The file on disk (plain, or `.zst` when only that exists). */
  file: string;
  /** The plain `.jsonl` path the DB stores. */
  plain: string;
  threadId: string;
}

interface CachedDir {
  /** Distinct for every read of a directory: a tree's signature is its dirs' generations. */
  generation: number;
  mtimeMs: number;
  files: TreeFile[];
  subdirs: string[];
}

interface RootSync {
  /** Files whose DB row was checked. */
  verified: Set<string>;
  /** Signature of the tree whose every file was checked (no new or vanished file since). */
  checkedTree: string | null;
}

/**
 * A directory's listing is reused while its mtime is unchanged. A listing read within this
 * window of the directory's mtime is not trusted (a file created in the same clock tick would
 * not move the mtime), so it is read again next time.
 */
const DIR_MTIME_SETTLE_MS = 2000;
const MAX_TREE_DEPTH = 4;
const dirCache = new Map<string, CachedDir>();
let dirGeneration = 0;
const syncStates = new WeakMap<StateDb, Map<string, RootSync>>();

function readDirCached(dir: string): CachedDir | null {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(dir).mtimeMs;
  } catch {
    dirCache.delete(dir);
    return null;
  }
  const cached = dirCache.get(dir);
  if (cached && cached.mtimeMs === mtimeMs) return cached;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const plainNames = new Set<string>();
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.name.endsWith(COMPRESSED_SUFFIX)) plainNames.add(entry.name);
  }
  dirGeneration += 1;
  const out: CachedDir = { generation: dirGeneration, mtimeMs, files: [], subdirs: [] };
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      out.subdirs.push(full);
      continue;
    }
    const parsed = parseRolloutFileName(entry.name);
    if (parsed === null) continue;
    const compressed = entry.name.endsWith(COMPRESSED_SUFFIX);
    if (compressed && plainNames.has(entry.name.slice(0, -COMPRESSED_SUFFIX.length))) continue;
    out.files.push({ file: full, plain: plainRolloutPath(full), threadId: parsed.threadId });
  }
  if (Date.now() - mtimeMs > DIR_MTIME_SETTLE_MS) dirCache.set(dir, out);
  else dirCache.delete(dir);
  return out;
}

/**
 * The directories of a collection root, each listed (cached by mtime; one `stat` per directory
 * when nothing moved). The signature changes whenever any directory of the tree was read again;
 * the files are gathered only when asked, as an unchanged tree needs none of them.
 */
function walkRolloutTree(
  root: string,
  nested: boolean,
): { listings: CachedDir[]; signature: string } {
  const listings: CachedDir[] = [];
  const generations: number[] = [];
  const visit = (dir: string, depth: number) => {
    const listing = readDirCached(dir);
    if (listing === null) return;
    listings.push(listing);
    generations.push(listing.generation);
    if (nested && depth < MAX_TREE_DEPTH) for (const sub of listing.subdirs) visit(sub, depth + 1);
  };
  visit(root, 0);
  return { listings, signature: generations.join(',') };
}

function syncStateFor(db: StateDb, root: string): RootSync {
  let roots = syncStates.get(db);
  if (roots === undefined) {
    roots = new Map();
    syncStates.set(db, roots);
  }
  let state = roots.get(root);
  if (state === undefined) {
    state = { verified: new Set(), checkedTree: null };
    roots.set(root, state);
  }
  return state;
}

/** Whether a row must be rebuilt from (or re-pointed at) the file found at `found`. */
function rowNeedsRepair(
  codexHome: string,
  row: ThreadMetadata | undefined,
  found: TreeFile,
  archived: boolean,
): 'none' | 'path' | 'reconcile' {
  if (row === undefined) return 'reconcile';
  if (row.rolloutPath !== found.plain) {
    // A row naming another home (this one was copied or moved) is re-pointed here.
    if (rolloutPathInHome(codexHome, row.rolloutPath) !== row.rolloutPath) return 'path';
    // Re-point only a stale row (its file is gone or is another thread's): a thread may own
    // several files (revert copies), and flipping between them would churn.
    const rowFile = parseRolloutFileName(row.rolloutPath);
    const rowFileAlive = rolloutFileExists(row.rolloutPath);
    if (rowFileAlive && rowFile?.threadId === found.threadId) return 'none';
    return 'path';
  }
  return row.archived !== archived ? 'path' : 'none';
}

/**
 * Brings the DB up to date with one collection's files without reading rollout heads: walks the
 * directories (cached by directory mtime), checks files it has not seen before against their
 * rows in one query, and repairs only rows that are missing (a file no DB writer indexed) or
 * point elsewhere (a file moved behind the DB's back). A row whose file is where it says is
 * left alone, whatever the file's mtime: every writer Skein shares a home with (Codex, Skein)
 * keeps its rows in step with its appends, and Codex's own list writes nothing (spec
 * codex-db-effects §2.1). Names are not copied into rows: Codex reads them from the session
 * index, and so does every Skein answer.
 */
async function syncCollection(
  db: StateDb,
  codexHome: string,
  archived: boolean,
  defaultProvider: string,
): Promise<void> {
  const root = archived ? archivedSessionsDir(codexHome) : sessionsDir(codexHome);
  const state = syncStateFor(db, root);
  const { listings, signature } = walkRolloutTree(root, !archived);
  // No directory changed since every file was checked: nothing new, moved or deleted.
  if (state.checkedTree === signature) return;
  const toCheck: TreeFile[] = [];
  const present = new Set<string>();
  for (const found of listings.flatMap((listing) => listing.files)) {
    present.add(found.file);
    if (!state.verified.has(found.file)) toCheck.push(found);
  }
  for (const path of state.verified) if (!present.has(path)) state.verified.delete(path);
  if (toCheck.length > 0) {
    const rows = await getThreads(
      db.ctx,
      toCheck.map((found) => found.threadId),
    );
    const repair = { codexHome, archived, defaultProvider };
    for (const found of toCheck) {
      const action = rowNeedsRepair(codexHome, rows.get(found.threadId), found, archived);
      if (action === 'reconcile') {
        await reconcileRolloutFile(db, found.file, repair).catch(() => null);
      } else if (action === 'path') {
        await readRepairRolloutPath(db, found.file, {
          ...repair,
          threadId: found.threadId as ThreadId,
        });
      }
      state.verified.add(found.file);
    }
  }
  state.checkedTree = signature;
}
