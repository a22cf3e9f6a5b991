import type { StoredThread } from '@skein/thread-store';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { toThreadJson } from '../thread-json.js';
import { MAX_PAGE_SIZE, printThreadTable } from './list.js';

export interface SearchOptions {
  json?: boolean;
  limit?: number;
  ignoreCase?: boolean;
  archived?: boolean;
  active?: boolean;
  /** Search the conversations themselves (case-insensitive), with a snippet per thread. */
  content?: boolean;
}

/** Bound on store pages read by one search (100 rows each). */
const MAX_PAGES = 2_000;

/**
 * Searches names, titles and previews of every thread (active and archived, every source and
 * provider). The store's search term is a case-sensitive substring, as in `thread/list`;
 * `--ignore-case` instead reads every listed thread and compares in lower case.
 */
export async function runSearch(
  ctx: CommandContext,
  text: string,
  options: SearchOptions,
): Promise<ExitCode> {
  if (text.trim() === '') throw CliError.usage('search text must not be empty');
  if (options.content) return runContentSearch(ctx, text, options);
  const { store, indexed } = await ctx.services();
  const limit = options.limit ?? 50;
  const collections = options.archived ? [true] : options.active ? [false] : [false, true];
  const found: StoredThread[] = [];
  const needle = text.toLowerCase();
  for (const archived of collections) {
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES && found.length < limit; page += 1) {
      const result = await store.listThreads({
        pageSize: MAX_PAGE_SIZE,
        cursor,
        sortKey: 'updatedAt',
        sortDirection: 'desc',
        allowedSources: [],
        modelProviders: [],
        archived,
        // The index answers a search alone; scanning every rollout head would not add to it.
        useStateDbOnly: indexed,
      });
      // Matched here rather than by the store's search term, which (as Codex's) looks at the
      // name and the title only: `skein search` also finds a thread by its preview.
      for (const thread of result.items) {
        if (!matches(thread, options.ignoreCase ? needle : text, options.ignoreCase === true))
          continue;
        found.push(thread);
        if (found.length >= limit) break;
      }
      if (result.nextCursor === null || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
  }
  const out = ctx.out;
  if (out.json) {
    out.printJson(found.map(toThreadJson));
    return EXIT.ok;
  }
  if (found.length === 0) {
    out.note(
      `No thread name, title or preview contains "${text}".${options.ignoreCase ? '' : ' (Case-sensitive; try --ignore-case.)'}`,
    );
    return EXIT.ok;
  }
  printThreadTable(out, found, ctx.io.env.HOME ?? '');
  out.note(
    `${found.length} match${found.length === 1 ? '' : 'es'}${found.length >= limit ? ` (limit ${limit}; raise with --limit)` : ''}`,
  );
  return EXIT.ok;
}

function matches(thread: StoredThread, needle: string, ignoreCase: boolean): boolean {
  return [thread.name, thread.preview, thread.firstUserMessage].some(
    (field) =>
      typeof field === 'string' && (ignoreCase ? field.toLowerCase() : field).includes(needle),
  );
}

/** `--content`: the store's conversation search (every message, case-insensitive), with snippets. */
async function runContentSearch(
  ctx: CommandContext,
  text: string,
  options: SearchOptions,
): Promise<ExitCode> {
  const { store } = await ctx.services();
  const limit = options.limit ?? 50;
  const collections = options.archived ? [true] : options.active ? [false] : [false, true];
  const found: { thread: StoredThread; snippet: string }[] = [];
  for (const archived of collections) {
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES && found.length < limit; page += 1) {
      const result = await store.searchThreads({
        pageSize: Math.min(MAX_PAGE_SIZE, limit - found.length),
        cursor,
        sortKey: 'updatedAt',
        sortDirection: 'desc',
        allowedSources: [],
        archived,
        searchTerm: text,
      });
      found.push(...result.items);
      if (result.nextCursor === null || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
  }
  const out = ctx.out;
  if (out.json) {
    out.printJson(found.map((hit) => ({ thread: toThreadJson(hit.thread), snippet: hit.snippet })));
    return EXIT.ok;
  }
  if (found.length === 0) {
    out.note(`No conversation mentions "${text}".`);
    return EXIT.ok;
  }
  const c = out.color;
  for (const hit of found) {
    const title = hit.thread.name ?? hit.thread.preview ?? hit.thread.threadId;
    out.line(`${c.cyan(hit.thread.threadId.slice(0, 13))}  ${c.bold(title)}`);
    out.line(`  ${c.dim(hit.snippet)}`);
  }
  out.note(`${found.length} thread${found.length === 1 ? '' : 's'}`);
  return EXIT.ok;
}
