/**
 * Listing for LocalThreadStore. With a state DB the page comes from the indexed query; without
 * one (or for relation filters, which need the whole tree) candidates are collected and paged
 * here with the same cursor format and `(time, id)` strict-after rule as the DB query.
 */
import { basename } from 'node:path';
import {
  encodeSessionSource,
  encodeThreadCursor,
  isAfterThreadCursor,
  type SessionSource,
  type SortDirection,
  type ThreadCursor,
  type ThreadSortKey,
} from '@skein/protocol';
import { collectRolloutFiles, parseRolloutFileName } from '@skein/rollout';
import { type ThreadMetadata, threadSortTime } from '@skein/state';
import type { ThreadRelationFilter } from '../types.js';
import { normalizeThreadCwd } from './mapping.js';
import { readRolloutMetadata } from './rollout-port.js';

export interface MetadataFilter {
  allowedSources?: readonly SessionSource[] | undefined;
  modelProviders?: readonly string[] | null | undefined;
  cwdFilters?: readonly string[] | null | undefined;
  defaultProvider: string;
  /** Matches names (and titles); `names` supplies index names for rows without one. */
  searchTerm?: string | null | undefined;
  names?: ReadonlyMap<string, string>;
}

export function metadataMatches(metadata: ThreadMetadata, filter: MetadataFilter): boolean {
  if (metadata.preview === '' && metadata.firstUserMessage === '') return false;
  if (filter.allowedSources !== undefined && filter.allowedSources.length > 0) {
    const allowed = new Set(filter.allowedSources.map((source) => encodeSessionSource(source)));
    if (!allowed.has(metadata.source)) return false;
  }
  if (filter.modelProviders != null && filter.modelProviders.length > 0) {
    const provider = metadata.modelProvider || filter.defaultProvider;
    if (!filter.modelProviders.includes(provider)) return false;
  }
  if (filter.cwdFilters != null) {
    const cwd = normalizeThreadCwd(metadata.cwd);
    if (!filter.cwdFilters.some((wanted) => normalizeThreadCwd(wanted) === cwd)) return false;
  }
  const term = filter.searchTerm;
  if (term) {
    const name = metadata.name ?? filter.names?.get(metadata.id) ?? '';
    if (
      !name.includes(term) &&
      !metadata.title.includes(term) &&
      !metadata.preview.includes(term)
    ) {
      return false;
    }
  }
  return true;
}

export interface MemoryPage {
  items: ThreadMetadata[];
  nextCursor: string | null;
  backwardsCursor: string | null;
}

/** A page and where its rows came from (see `ThreadMetadataPage` in `@skein/rollout`). */
export interface ListedPage extends MemoryPage {
  origin: 'state_db' | 'filesystem';
}

/** Sorts, applies the cursor strictly-after rule, and cuts one page. */
export function pageMetadata(
  candidates: readonly ThreadMetadata[],
  sortKey: ThreadSortKey,
  direction: SortDirection,
  cursor: ThreadCursor | null,
  pageSize: number,
): MemoryPage {
  const sign = direction === 'desc' ? -1 : 1;
  const compare = (a: ThreadMetadata, b: ThreadMetadata): number => {
    const delta = threadSortTime(a, sortKey) - threadSortTime(b, sortKey);
    if (delta !== 0) return sign * delta;
    return sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
  const sorted = [...candidates].sort(compare);
  const after = cursor
    ? sorted.filter((meta) =>
        isAfterThreadCursor(threadSortTime(meta, sortKey), meta.id, cursor, direction),
      )
    : sorted;
  const items = after.slice(0, pageSize);
  const cursorOf = (meta: ThreadMetadata) =>
    encodeThreadCursor({ timestampMs: threadSortTime(meta, sortKey), threadId: meta.id });
  const first = items[0];
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: after.length > pageSize && last ? cursorOf(last) : null,
    backwardsCursor: first ? cursorOf(first) : null,
  };
}

/**
 * Every rollout file (plain path) of one collection, as Codex's listing sees it: the dated tree
 * under `sessions/` (at most four levels deep), or the flat `archived_sessions/` directory.
 */
export function collectionRolloutFiles(codexHome: string, archived: boolean): string[] {
  const maxSegments = archived ? 2 : 6;
  return collectRolloutFiles(codexHome)
    .filter(
      (file) =>
        file.archived === archived &&
        file.watermark.split('/').length <= maxSegments &&
        parseRolloutFileName(basename(file.rolloutPath)) !== null,
    )
    .map((file) => file.rolloutPath);
}

/** Metadata of every readable rollout in a collection (unreadable files are skipped). */
export async function scanRolloutMetadata(
  codexHome: string,
  archived: boolean,
  defaultProvider: string,
): Promise<ThreadMetadata[]> {
  const files = collectionRolloutFiles(codexHome, archived);
  const out: ThreadMetadata[] = [];
  const batch = 32;
  for (let index = 0; index < files.length; index += batch) {
    const results = await Promise.all(
      files.slice(index, index + batch).map(async (file) => {
        try {
          const extracted = await readRolloutMetadata(file, defaultProvider, archived, codexHome);
          if (!extracted.hasSessionMeta) return null;
          const metadata = extracted.metadata;
          if (archived) metadata.archivedAtMs = metadata.updatedAtMs;
          return metadata;
        } catch {
          return null;
        }
      }),
    );
    for (const metadata of results) if (metadata !== null) out.push(metadata);
  }
  return out;
}

/** Threads related to an ancestor through `parentThreadId` (direct children or all descendants). */
export function filterRelation(
  candidates: readonly ThreadMetadata[],
  relation: ThreadRelationFilter,
): ThreadMetadata[] {
  const parentOf = new Map(candidates.map((meta) => [meta.id, meta.parentThreadId]));
  return candidates.filter((meta) => {
    if (relation.kind === 'directChildrenOf') return meta.parentThreadId === relation.threadId;
    const seen = new Set<string>();
    for (let parent = meta.parentThreadId; parent !== null && parent !== undefined; ) {
      if (parent === relation.threadId) return true;
      if (seen.has(parent)) return false;
      seen.add(parent);
      parent = parentOf.get(parent) ?? null;
    }
    return false;
  });
}
