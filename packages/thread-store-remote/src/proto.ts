/**
 * Loads `codex.thread_store.v1` from the .proto shipped with this package, and describes the
 * message shapes as @grpc/proto-loader hands them over with `PROTO_LOADER_OPTIONS`: snake_case
 * field names, enums as their names, int64 as numbers, absent scalars as `undefined`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The `@grpc/proto-loader` options the service is loaded with (snake_case fields, longs as
 * strings, defaults filled): what the message shapes here assume.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: false,
};

/** The .proto file, from `src/` (tests) or `dist/` (built) alike. */
export function threadStoreProtoPath(): string {
  const path = fileURLToPath(
    new URL('../proto/codex/thread_store/v1/thread_store.proto', import.meta.url),
  );
  if (!existsSync(path)) throw new Error(`thread-store proto not found at ${path}`);
  return path;
}

let cached: grpc.ServiceClientConstructor | undefined;

/** The generated client constructor; its `.service` is the server-side definition. */
export function threadStoreService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const definition = protoLoader.loadSync(threadStoreProtoPath(), PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    codex: { thread_store: { v1: { ThreadStore: grpc.ServiceClientConstructor } } };
  };
  cached = loaded.codex.thread_store.v1.ThreadStore;
  return cached;
}

// ---------------------------------------------------------------------------------------------
// Message shapes (only what this package reads and writes).

export type SessionSourceKind =
  | 'SESSION_SOURCE_KIND_UNKNOWN'
  | 'SESSION_SOURCE_KIND_CLI'
  | 'SESSION_SOURCE_KIND_VSCODE'
  | 'SESSION_SOURCE_KIND_EXEC'
  | 'SESSION_SOURCE_KIND_APP_SERVER'
  | 'SESSION_SOURCE_KIND_CUSTOM'
  | 'SESSION_SOURCE_KIND_SUB_AGENT_REVIEW'
  | 'SESSION_SOURCE_KIND_SUB_AGENT_COMPACT'
  | 'SESSION_SOURCE_KIND_SUB_AGENT_THREAD_SPAWN'
  | 'SESSION_SOURCE_KIND_SUB_AGENT_MEMORY_CONSOLIDATION'
  | 'SESSION_SOURCE_KIND_SUB_AGENT_OTHER';

export interface SessionSourceMessage {
  kind?: SessionSourceKind;
  custom?: string;
  sub_agent_parent_thread_id?: string;
  sub_agent_depth?: number;
  sub_agent_other?: string;
  sub_agent_path?: string;
  sub_agent_nickname?: string;
  sub_agent_role?: string;
  source_json?: string;
}

export interface GitInfoMessage {
  sha?: string;
  branch?: string;
  origin_url?: string;
}

export interface StoredThreadHistoryMessage {
  thread_id?: string;
  items_json?: string[];
}

export interface StoredThreadMessage {
  thread_id?: string;
  forked_from_id?: string;
  preview?: string;
  name?: string;
  model_provider?: string;
  model?: string;
  created_at?: number;
  updated_at?: number;
  archived_at?: number;
  cwd?: string;
  cli_version?: string;
  source?: SessionSourceMessage;
  git_info?: GitInfoMessage;
  agent_nickname?: string;
  agent_role?: string;
  agent_path?: string;
  reasoning_effort?: string;
  first_user_message?: string;
  rollout_path?: string;
  approval_mode_json?: string;
  sandbox_policy_json?: string;
  token_usage_json?: string;
  history?: StoredThreadHistoryMessage;
  created_at_ms?: number;
  updated_at_ms?: number;
  archived_at_ms?: number;
  recency_at_ms?: number;
  history_mode?: string;
  thread_source?: string;
  parent_thread_id?: string;
  extra_config_json?: string;
}

export interface StoredThreadResponseMessage {
  thread?: StoredThreadMessage;
}

export interface CreateThreadRequestMessage {
  thread_id?: string;
  forked_from_id?: string;
  source?: SessionSourceMessage;
  base_instructions_json?: string;
  dynamic_tools_json?: string[];
  event_persistence_mode?: string;
  metadata_json?: string;
  params_json?: string;
}

export interface ResumeThreadRequestMessage {
  thread_id?: string;
  rollout_path?: string;
  history_json?: string[];
  has_history?: boolean;
  include_archived?: boolean;
  event_persistence_mode?: string;
  metadata_defaults_json?: string;
  metadata_json?: string;
}

export interface AppendThreadItemsRequestMessage {
  thread_id?: string;
  items_json?: string[];
}

export interface ThreadIdRequestMessage {
  thread_id?: string;
}

export interface LoadThreadHistoryRequestMessage {
  thread_id?: string;
  include_archived?: boolean;
}

export interface ReadThreadRequestMessage {
  thread_id?: string;
  include_archived?: boolean;
  include_history?: boolean;
}

export interface ListThreadsRequestMessage {
  page_size?: number;
  cursor?: string;
  sort_key?: string;
  allowed_sources?: SessionSourceMessage[];
  model_provider_filter?: { values?: string[] };
  archived?: boolean;
  search_term?: string;
  cwd_filter?: { values?: string[] };
  use_state_db_only?: boolean;
  sort_direction?: string;
  relation_filter?: { kind?: string; thread_id?: string };
  allowed_sources_json?: string[];
}

export interface ListThreadsResponseMessage {
  threads?: StoredThreadMessage[];
  next_cursor?: string;
  backwards_cursor?: string;
}

export interface OptionalStringPatchMessage {
  kind?: string;
  value?: string;
}

export interface ThreadMetadataPatchMessage {
  name?: string;
  memory_mode?: string;
  git_info?: {
    sha?: OptionalStringPatchMessage;
    branch?: OptionalStringPatchMessage;
    origin_url?: OptionalStringPatchMessage;
  };
  patch_json?: string;
}

export interface UpdateThreadMetadataRequestMessage {
  thread_id?: string;
  patch?: ThreadMetadataPatchMessage;
  include_archived?: boolean;
}

export interface JsonRequestMessage {
  params_json?: string;
}

export interface JsonResponseMessage {
  result_json?: string;
}

export interface SessionRequestMessage {
  session_id?: string;
}

export interface SessionEventMessage {
  session_id?: string;
}
