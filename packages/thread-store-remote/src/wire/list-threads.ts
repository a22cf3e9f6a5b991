/**
 * `ListThreadsParams` ↔ `ListThreadsRequestMessage` and `ThreadPage` ↔
 * `ListThreadsResponseMessage`: sort key and direction enums, source and relation filters.
 */
import {
  type ListThreadsParams,
  sessionSourceSchema,
  type ThreadPage,
  ThreadStoreError,
} from '@skein/thread-store';
import type { ListThreadsRequestMessage, ListThreadsResponseMessage } from '../proto.js';
import { parseJsonField, parseThreadIdField } from './json-fields.js';
import { sessionSourceFromMessage, sessionSourceToMessage } from './session-source.js';
import { storedThreadFromMessage, storedThreadToMessage } from './stored-thread.js';

const SORT_KEYS = {
  createdAt: 'THREAD_SORT_KEY_CREATED_AT',
  updatedAt: 'THREAD_SORT_KEY_UPDATED_AT',
  recencyAt: 'THREAD_SORT_KEY_RECENCY_AT',
} as const;

export function listThreadsToMessage(params: ListThreadsParams): ListThreadsRequestMessage {
  // page_size is a uint32 on the wire: a negative one cannot be sent, so it is refused here as
  // every store refuses it.
  if (!(params.pageSize >= 1)) {
    throw ThreadStoreError.invalidRequest(`page_size must be at least 1: ${params.pageSize}`);
  }
  if (params.pageSize > 0xffff_ffff) {
    throw ThreadStoreError.invalidRequest(`page_size is too large: ${params.pageSize}`);
  }
  const sources = params.allowedSources ?? [];
  const message: ListThreadsRequestMessage = {
    page_size: params.pageSize,
    sort_key: SORT_KEYS[params.sortKey ?? 'createdAt'],
    allowed_sources: sources.map(sessionSourceToMessage),
    allowed_sources_json: sources.map((source) => JSON.stringify(source)),
    archived: params.archived === true,
    use_state_db_only: params.useStateDbOnly === true,
    sort_direction:
      (params.sortDirection ?? 'desc') === 'asc' ? 'SORT_DIRECTION_ASC' : 'SORT_DIRECTION_DESC',
  };
  if (params.cursor != null) message.cursor = params.cursor;
  if (params.modelProviders != null)
    message.model_provider_filter = { values: [...params.modelProviders] };
  if (params.cwdFilters != null) message.cwd_filter = { values: [...params.cwdFilters] };
  if (params.searchTerm != null) message.search_term = params.searchTerm;
  if (params.relationFilter != null) {
    message.relation_filter = {
      kind:
        params.relationFilter.kind === 'directChildrenOf'
          ? 'THREAD_RELATION_KIND_DIRECT_CHILDREN_OF'
          : 'THREAD_RELATION_KIND_DESCENDANTS_OF',
      thread_id: params.relationFilter.threadId,
    };
  }
  return message;
}

export function listThreadsFromMessage(message: ListThreadsRequestMessage): ListThreadsParams {
  const params: ListThreadsParams = {
    pageSize: message.page_size ?? 0,
    sortKey:
      message.sort_key === 'THREAD_SORT_KEY_UPDATED_AT'
        ? 'updatedAt'
        : message.sort_key === 'THREAD_SORT_KEY_RECENCY_AT'
          ? 'recencyAt'
          : 'createdAt',
    // proto3: an unset direction reads as its zero value, ASC.
    sortDirection: message.sort_direction === 'SORT_DIRECTION_DESC' ? 'desc' : 'asc',
    archived: message.archived === true,
    useStateDbOnly: message.use_state_db_only === true,
  };
  const json = message.allowed_sources_json ?? [];
  const sources = message.allowed_sources ?? [];
  if (json.length > 0) {
    params.allowedSources = json.map((text) =>
      parseJsonField(sessionSourceSchema, text, 'allowed_sources_json'),
    );
  } else if (sources.length > 0) {
    params.allowedSources = sources.map(sessionSourceFromMessage);
  }
  if (message.cursor !== undefined) params.cursor = message.cursor;
  if (message.model_provider_filter)
    params.modelProviders = message.model_provider_filter.values ?? [];
  if (message.cwd_filter) params.cwdFilters = message.cwd_filter.values ?? [];
  if (message.search_term !== undefined) params.searchTerm = message.search_term;
  if (message.relation_filter) {
    const threadId = parseThreadIdField(
      message.relation_filter.thread_id,
      'relation_filter.thread_id',
    );
    params.relationFilter =
      message.relation_filter.kind === 'THREAD_RELATION_KIND_DESCENDANTS_OF'
        ? { kind: 'descendantsOf', threadId }
        : { kind: 'directChildrenOf', threadId };
  }
  return params;
}

export function threadPageToMessage(page: ThreadPage): ListThreadsResponseMessage {
  const message: ListThreadsResponseMessage = { threads: page.items.map(storedThreadToMessage) };
  if (page.nextCursor !== null) message.next_cursor = page.nextCursor;
  if (page.backwardsCursor != null) message.backwards_cursor = page.backwardsCursor;
  return message;
}

export function threadPageFromMessage(message: ListThreadsResponseMessage): ThreadPage {
  return {
    items: (message.threads ?? []).map(storedThreadFromMessage),
    nextCursor: message.next_cursor ?? null,
    backwardsCursor: message.backwards_cursor ?? null,
  };
}
