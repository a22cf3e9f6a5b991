import { resolve } from 'node:path';
import { sourceMatchesKind } from '@skein/app-server-protocol';
import type { ListThreadsParams, StoredThread, ThreadSortKey } from '@skein/thread-store';
import Table from 'cli-table3';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { oneLine, shortDateTime, tildePath } from '../format.js';
import type { Output } from '../output.js';
import { isSourceKind, SOURCE_KINDS, type SourceKind, sourceFilterFor } from '../source-kinds.js';
import { displayTitle, toThreadJson } from '../thread-json.js';

/** `thread/list` limits: default 25, clamped to 1..100 (0 means 1). */
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
/** Bound on store pages fetched for one page of post-filtered results (and for --all). */
const MAX_STORE_PAGES = 10_000;

export interface ListOptions {
  json?: boolean;
  cwd?: string[];
  source?: string[];
  provider?: string[];
  archived?: boolean;
  search?: string;
  sort?: string;
  order?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  indexOnly?: boolean;
}

const SORT_KEYS: Record<string, ThreadSortKey> = {
  created: 'createdAt',
  created_at: 'createdAt',
  createdAt: 'createdAt',
  updated: 'updatedAt',
  updated_at: 'updatedAt',
  updatedAt: 'updatedAt',
  recency: 'recencyAt',
  recency_at: 'recencyAt',
  recencyAt: 'recencyAt',
};

export interface ListQuery {
  params: Omit<ListThreadsParams, 'pageSize' | 'cursor'>;
  postFilter: readonly SourceKind[] | null;
  pageSize: number;
  cursor: string | null;
  all: boolean;
}

export function listQueryFrom(
  options: ListOptions,
  defaultProvider: string,
  cwd: string,
): ListQuery {
  const sortKey = SORT_KEYS[options.sort ?? 'created'];
  if (sortKey === undefined) {
    throw CliError.usage(
      `unknown sort key "${options.sort}" (expected created, updated or recency)`,
    );
  }
  const order = (options.order ?? 'desc').toLowerCase();
  if (order !== 'asc' && order !== 'desc') {
    throw CliError.usage(`unknown order "${options.order}" (expected asc or desc)`);
  }
  let kinds: SourceKind[] | 'any' | null = null;
  if (options.source && options.source.length > 0) {
    if (options.source.includes('any')) kinds = 'any';
    else {
      const bad = options.source.filter((kind) => !isSourceKind(kind));
      if (bad.length > 0) {
        throw CliError.usage(
          `unknown source kind ${bad.map((b) => `"${b}"`).join(', ')} (expected any or ${SOURCE_KINDS.join(', ')})`,
        );
      }
      kinds = options.source as SourceKind[];
    }
  }
  const sources = sourceFilterFor(kinds);
  // Like thread/list: no --provider = the configured provider only; `any` = every provider.
  let modelProviders: string[];
  if (!options.provider || options.provider.length === 0) modelProviders = [defaultProvider];
  else if (options.provider.includes('any')) modelProviders = [];
  else modelProviders = options.provider;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const params: ListQuery['params'] = {
    sortKey,
    sortDirection: order,
    allowedSources: sources.allowedSources,
    modelProviders,
    archived: options.archived === true,
  };
  if (options.indexOnly) params.useStateDbOnly = true;
  // Relative cwds resolve against the current directory, as the app-server resolves them
  // against its own.
  if (options.cwd !== undefined) params.cwdFilters = options.cwd.map((dir) => resolve(cwd, dir));
  if (options.search !== undefined && options.search !== '') params.searchTerm = options.search;
  return {
    params,
    postFilter: sources.postFilter,
    pageSize: Math.min(MAX_PAGE_SIZE, Math.max(1, limit)),
    cursor: options.cursor ?? null,
    all: options.all === true,
  };
}

export interface CollectedPage {
  threads: StoredThread[];
  nextCursor: string | null;
}

/**
 * Fetches one page of `pageSize` threads (or every page with `all`). With a source
 * post-filter, each store page asks for exactly the rows still missing, so a page never
 * overshoots and the store's cursor after it is exact (every row before it was kept or
 * filtered out). Stops if a cursor repeats.
 */
export async function collectThreads(
  ctx: CommandContext,
  query: ListQuery,
): Promise<CollectedPage> {
  const { store } = await ctx.services();
  const threads: StoredThread[] = [];
  let cursor = query.cursor;
  const seen = new Set<string>();
  for (let page = 0; page < MAX_STORE_PAGES; page += 1) {
    const missing = query.all ? MAX_PAGE_SIZE : query.pageSize - threads.length;
    const result = await store.listThreads({ ...query.params, pageSize: missing, cursor });
    for (const thread of result.items) {
      if (query.postFilter && !query.postFilter.some((k) => sourceMatchesKind(thread.source, k))) {
        continue;
      }
      threads.push(thread);
    }
    if (result.nextCursor === null || seen.has(result.nextCursor)) {
      return { threads, nextCursor: null };
    }
    seen.add(result.nextCursor);
    cursor = result.nextCursor;
    if (!query.all && threads.length >= query.pageSize) return { threads, nextCursor: cursor };
  }
  return { threads, nextCursor: cursor };
}

export function idPrefix(id: string): string {
  return id.slice(0, 13);
}

export function printThreadTable(
  out: Output,
  threads: readonly StoredThread[],
  home: string,
): void {
  const c = out.color;
  const titleWidth = Math.max(24, Math.min(60, out.columns - 70));
  const table = new Table({
    head: ['', 'name / preview', 'cwd', 'updated', 'id'].map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
  });
  for (const thread of threads) {
    const mark = thread.archivedAtMs !== null || isArchivedPath(thread) ? c.yellow('A') : ' ';
    const child = thread.parentThreadId ? c.dim('↳ ') : '';
    const title = oneLine(displayTitle(thread), titleWidth - (child ? 2 : 0));
    table.push([
      mark,
      child + (thread.name ? c.bold(title) : title),
      c.dim(oneLine(tildePath(thread.cwd, home), 32)),
      shortDateTime(thread.updatedAtMs),
      c.cyan(idPrefix(thread.threadId)),
    ]);
  }
  out.line(table.toString());
}

function isArchivedPath(thread: StoredThread): boolean {
  return thread.rolloutPath !== null && /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath);
}

export async function runList(ctx: CommandContext, options: ListOptions): Promise<ExitCode> {
  const { defaultProvider } = await ctx.services();
  const query = listQueryFrom(options, defaultProvider, ctx.io.cwd);
  const page = await collectThreads(ctx, query);
  const out = ctx.out;
  if (out.json) {
    out.printJson(page.threads.map(toThreadJson));
    if (page.nextCursor) out.note(`next page: --cursor '${page.nextCursor}'`);
    return EXIT.ok;
  }
  if (page.threads.length === 0) {
    out.note(
      options.archived
        ? 'No archived threads match.'
        : 'No threads match. (Hidden by default: other providers, exec and sub-agent threads; try --provider any --source any.)',
    );
    return EXIT.ok;
  }
  printThreadTable(out, page.threads, ctx.io.env.HOME ?? '');
  const count = `${page.threads.length} thread${page.threads.length === 1 ? '' : 's'}`;
  if (page.nextCursor) {
    out.note(`${count}; more: skein list --cursor '${page.nextCursor}' (or --all)`);
  } else {
    out.note(count);
  }
  return EXIT.ok;
}
