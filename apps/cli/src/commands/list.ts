import { resolve } from 'node:path';
import { sourceMatchesKind } from '@skein/app-server-protocol';
import type { ListThreadsParams, StoredThread, ThreadSortKey } from '@skein/thread-store';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import {
  displayWidth,
  fitDisplay,
  groupThousands,
  padDisplay,
  shortDateTime,
  tildePath,
} from '../format.js';
import type { Output } from '../output.js';
import type { Services } from '../services-contract.js';
import { isSourceKind, SOURCE_KINDS, type SourceKind, sourceFilterFor } from '../source-kinds.js';
import { StreamWriter } from '../stream-writer.js';
import { displayTitle, toThreadJson } from '../thread-json.js';

/** `thread/list` limits: default 25, at most 100 (a page; `--all` gets every page). */
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
    pageSize: limit,
    cursor: options.cursor ?? null,
    all: options.all === true,
  };
}

export interface CollectedPage {
  threads: StoredThread[];
  nextCursor: string | null;
}

/** What `streamThreads` ends with: rows passed on, and where the next page would start. */
export interface StreamedPage {
  count: number;
  nextCursor: string | null;
  /** The consumer asked to stop (its reader went away). */
  stopped: boolean;
}

/**
 * Fetches one page of `pageSize` threads (or every page with `all`), handing each store page's
 * rows to `onRows` as it arrives; `onRows` returns false to stop at once. With a source
 * post-filter, each store page asks for exactly the rows still missing, so a page never
 * overshoots and the store's cursor after it is exact (every row before it was kept or
 * filtered out). Stops if a cursor repeats.
 */
export async function streamThreads(
  ctx: CommandContext,
  query: ListQuery,
  onRows: (threads: StoredThread[]) => Promise<boolean>,
): Promise<StreamedPage> {
  const { store } = await ctx.services();
  let count = 0;
  let cursor = query.cursor;
  const seen = new Set<string>();
  for (let page = 0; page < MAX_STORE_PAGES; page += 1) {
    const missing = query.all ? MAX_PAGE_SIZE : query.pageSize - count;
    const result = await store.listThreads({ ...query.params, pageSize: missing, cursor });
    const rows = query.postFilter
      ? result.items.filter((thread) =>
          query.postFilter!.some((kind) => sourceMatchesKind(thread.source, kind)),
        )
      : result.items;
    count += rows.length;
    if (rows.length > 0 && !(await onRows(rows))) {
      return { count, nextCursor: result.nextCursor, stopped: true };
    }
    if (result.nextCursor === null || seen.has(result.nextCursor)) {
      return { count, nextCursor: null, stopped: false };
    }
    seen.add(result.nextCursor);
    cursor = result.nextCursor;
    if (!query.all && count >= query.pageSize) return { count, nextCursor: cursor, stopped: false };
  }
  return { count, nextCursor: cursor, stopped: false };
}

/** `streamThreads`, collected. */
export async function collectThreads(
  ctx: CommandContext,
  query: ListQuery,
): Promise<CollectedPage> {
  const threads: StoredThread[] = [];
  const page = await streamThreads(ctx, query, async (rows) => {
    threads.push(...rows);
    return true;
  });
  return { threads, nextCursor: page.nextCursor };
}

export function idPrefix(id: string): string {
  return id.slice(0, 13);
}

/** Fixed column widths, so rows can be printed as they arrive (no pass over all rows). */
interface TableLayout {
  title: number;
  cwd: number;
}

const CWD_WIDTH = 32;
const UPDATED_WIDTH = 16;

function tableLayout(out: Output): TableLayout {
  return { title: Math.max(24, Math.min(60, out.columns - 70)), cwd: CWD_WIDTH };
}

/** The header line of the thread table. */
export function threadTableHeader(out: Output): string {
  const c = out.color;
  const layout = tableLayout(out);
  return [
    ' ',
    c.bold(padDisplay('name / preview', layout.title)),
    c.bold(padDisplay('cwd', layout.cwd)),
    c.bold(padDisplay('updated', UPDATED_WIDTH)),
    c.bold('id'),
  ].join('  ');
}

/** One thread as a table line (no newline). */
export function threadTableRow(out: Output, thread: StoredThread, home: string): string {
  const c = out.color;
  const layout = tableLayout(out);
  const mark = thread.archivedAtMs !== null || isArchivedPath(thread) ? c.yellow('A') : ' ';
  const child = thread.parentThreadId ? '↳ ' : '';
  const title = fitDisplay(displayTitle(thread), layout.title - displayWidth(child));
  const shownTitle = padDisplay(child + title, layout.title);
  return [
    mark,
    thread.name
      ? c.bold(shownTitle)
      : child
        ? c.dim(child) + shownTitle.slice(child.length)
        : shownTitle,
    c.dim(padDisplay(fitDisplay(tildePath(thread.cwd, home), layout.cwd), layout.cwd)),
    padDisplay(shortDateTime(thread.updatedAtMs), UPDATED_WIDTH),
    c.cyan(idPrefix(thread.threadId)),
  ].join('  ');
}

export function printThreadTable(
  out: Output,
  threads: readonly StoredThread[],
  home: string,
): void {
  out.line(threadTableHeader(out));
  for (const thread of threads) out.line(threadTableRow(out, thread, home));
}

function isArchivedPath(thread: StoredThread): boolean {
  return thread.rolloutPath !== null && /[\\/]archived_sessions[\\/]/.test(thread.rolloutPath);
}

export async function runList(ctx: CommandContext, options: ListOptions): Promise<ExitCode> {
  const services = await ctx.services();
  const query = listQueryFrom(options, services.defaultProvider, ctx.io.cwd);
  const out = ctx.out;
  const stdout = new StreamWriter(out.stdout);
  const home = ctx.io.env.HOME ?? '';
  let first = true;
  const page = await streamThreads(ctx, query, async (rows) => {
    let text = '';
    if (out.json) {
      for (const thread of rows) {
        text += `${first ? '[\n' : ',\n'}${indentJson(toThreadJson(thread))}`;
        first = false;
      }
    } else {
      if (first) text += `${threadTableHeader(out)}\n`;
      first = false;
      for (const thread of rows) text += `${threadTableRow(out, thread, home)}\n`;
    }
    return stdout.write(text);
  });
  if (page.stopped || stdout.closed) return EXIT.ok;
  const hidden = await hiddenByDefaults(services, query, options);
  if (out.json) {
    await stdout.write(first ? '[]\n' : '\n]\n');
    if (page.nextCursor) out.note(`next page: --cursor '${page.nextCursor}'`);
    if (hidden > 0) out.note(hiddenNote(hidden, query, options));
    return EXIT.ok;
  }
  if (page.count === 0) {
    out.note(
      hidden > 0
        ? `No threads match. ${hiddenNote(hidden, query, options)}`
        : options.archived
          ? 'No archived threads match.'
          : 'No threads match.',
    );
    return EXIT.ok;
  }
  const count = `${groupThousands(page.count)} thread${page.count === 1 ? '' : 's'}`;
  if (page.nextCursor) {
    out.note(`${count}; more: skein list --cursor '${page.nextCursor}' (or --all)`);
  } else {
    out.note(count);
  }
  if (hidden > 0) out.note(hiddenNote(hidden, query, options));
  return EXIT.ok;
}

/** A value as `JSON.stringify(array, null, 2)` prints an element of the array. */
function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^/gm, '  ');
}

/**
 * How many threads the default source and provider filters hide (0 when the user named both,
 * or the store cannot count): every thread matching the other filters minus those shown.
 */
async function hiddenByDefaults(
  services: Services,
  query: ListQuery,
  options: ListOptions,
): Promise<number> {
  const sourceDefault = !options.source || options.source.length === 0;
  const providerDefault = !options.provider || options.provider.length === 0;
  if ((!sourceDefault && !providerDefault) || query.postFilter || !services.countThreads) return 0;
  const filter = {
    archived: query.params.archived === true,
    cwds: query.params.cwdFilters ?? null,
    searchTerm: query.params.searchTerm ?? null,
  };
  const sources = query.params.allowedSources ?? [];
  const providers = query.params.modelProviders ?? [];
  // Every thread the other filters keep, and those the defaults also keep (one scan).
  const counts = await services.countThreads(
    {
      ...filter,
      sources: sourceDefault ? [] : sources,
      providers: providerDefault ? [] : providers,
    },
    { sources, providers },
  );
  return counts === null ? 0 : Math.max(0, counts.all - counts.within);
}

function hiddenNote(hidden: number, query: ListQuery, options: ListOptions): string {
  const sourceDefault = !options.source || options.source.length === 0;
  const providerDefault = !options.provider || options.provider.length === 0;
  const flags = [
    sourceDefault ? '--source' : null,
    providerDefault ? `--provider (${(query.params.modelProviders ?? []).join(', ')})` : null,
  ].filter((flag) => flag !== null);
  const any = [sourceDefault ? '--source any' : null, providerDefault ? '--provider any' : null]
    .filter((flag) => flag !== null)
    .join(' ');
  return `${groupThousands(hidden)} more thread${hidden === 1 ? '' : 's'} hidden by the ${flags.join('/')} default${flags.length === 1 ? '' : 's'}; ${any} lists them.`;
}
