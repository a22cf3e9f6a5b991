/**
 * `PostgresThreadStore.listThreads`: the state package's listing query (the SQLite index's), on
 * this database's dialect, narrowed to a thread's spawn children or descendants when asked, with
 * each thread's store-only extras.
 *
 * Crash safety: a read; nothing is written.
 */
import { decodeThreadCursor, encodeSessionSource } from '@skein/protocol';
import { listChildThreads, listDescendantThreads, listThreads } from '@skein/state';
import {
  type ListThreadsParams,
  type ThreadId,
  type ThreadPage,
  ThreadStoreError,
} from '@skein/thread-store';
import { storedThreadFromMetadata } from './codec.js';
import { type PgStoreHost, readThreadExtras, runPg } from './store-host.js';

/** One page of threads in the listing's order and keyset. */
export async function listPgThreads(
  host: PgStoreHost,
  params: ListThreadsParams,
): Promise<ThreadPage> {
  if (!(params.pageSize >= 1)) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  if (params.cursor && decodeThreadCursor(params.cursor) === null) {
    throw ThreadStoreError.invalidRequest(`invalid cursor: ${params.cursor}`);
  }
  return runPg(async () => {
    let threadIds: string[] | null = null;
    const relation = params.relationFilter;
    if (relation != null) {
      const edges =
        relation.kind === 'directChildrenOf'
          ? await listChildThreads(host.ctx, relation.threadId)
          : await listDescendantThreads(host.ctx, relation.threadId);
      threadIds = edges.map((edge) => edge.childId);
    }
    const page = await listThreads(host.ctx, {
      pageSize: params.pageSize,
      cursor: params.cursor ?? null,
      sortKey: params.sortKey ?? 'createdAt',
      sortDirection: params.sortDirection ?? 'desc',
      archived: params.archived === true,
      sources: (params.allowedSources ?? []).map(encodeSessionSource),
      modelProviders: params.modelProviders ?? null,
      cwds: params.cwdFilters ?? null,
      searchTerm: params.searchTerm ?? null,
      threadIds,
    });
    const extras = await readThreadExtras(
      host.db,
      page.items.map((meta) => meta.id),
    );
    return {
      items: page.items.map((meta) => storedThreadFromMetadata(meta, extras.get(meta.id))),
      nextCursor: page.nextCursor,
      backwardsCursor: page.backwardsCursor,
    };
  });
}

/** The thread's spawn descendants (open and closed edges), through the state package's query. */
export async function listPgSpawnDescendants(
  host: PgStoreHost,
  threadId: ThreadId,
): Promise<ThreadId[]> {
  return runPg(async () =>
    (await listDescendantThreads(host.ctx, threadId)).map((edge) => edge.childId),
  );
}
