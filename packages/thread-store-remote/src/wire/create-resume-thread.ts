/**
 * `CreateThreadParams` / `ResumeThreadParams` ↔ their request messages: the v2 fields for a
 * stock peer, the whole params as JSON for a Skein one (preferred when present).
 */
import {
  type CreateThreadParams,
  createThreadParamsSchema,
  type ResumeThreadParams,
  type ThreadPersistenceMetadata,
  threadPersistenceMetadataSchema,
} from '@skein/thread-store';
import type { CreateThreadRequestMessage, ResumeThreadRequestMessage } from '../proto.js';
import {
  decodeItems,
  encodeItems,
  parseJsonField,
  parseJsonLoose,
  parseThreadIdField,
} from './json-fields.js';
import { sessionSourceFromMessage, sessionSourceToMessage } from './session-source.js';

export function createThreadToMessage(params: CreateThreadParams): CreateThreadRequestMessage {
  const message: CreateThreadRequestMessage = {
    thread_id: params.threadId,
    source: sessionSourceToMessage(params.source),
    base_instructions_json: JSON.stringify(params.baseInstructions ?? null),
    dynamic_tools_json: (params.dynamicTools ?? []).map((tool) => JSON.stringify(tool)),
    event_persistence_mode: 'THREAD_EVENT_PERSISTENCE_MODE_LIMITED',
    metadata_json: JSON.stringify(persistenceMetadataToWire(params.metadata)),
    params_json: JSON.stringify(params),
  };
  if (params.forkedFromId != null) message.forked_from_id = params.forkedFromId;
  return message;
}

export function createThreadFromMessage(message: CreateThreadRequestMessage): CreateThreadParams {
  if (message.params_json) {
    return parseJsonField(
      createThreadParamsSchema,
      message.params_json,
      'params_json',
    ) as CreateThreadParams;
  }
  const threadId = parseThreadIdField(message.thread_id);
  const params: CreateThreadParams = {
    threadId,
    source: sessionSourceFromMessage(message.source),
    originator: '',
    metadata: persistenceMetadataFromWire(message.metadata_json, 'metadata_json'),
  };
  if (message.forked_from_id) params.forkedFromId = parseThreadIdField(message.forked_from_id);
  if (message.base_instructions_json) {
    const base = parseJsonLoose(message.base_instructions_json, 'base_instructions_json') as {
      text?: unknown;
    } | null;
    if (base && typeof base.text === 'string') params.baseInstructions = { text: base.text };
  }
  if (message.dynamic_tools_json && message.dynamic_tools_json.length > 0) {
    params.dynamicTools = message.dynamic_tools_json.map(
      (text) => parseJsonLoose(text, 'dynamic_tools_json') as never,
    );
  }
  return params;
}

function persistenceMetadataToWire(metadata: ThreadPersistenceMetadata) {
  return {
    cwd: metadata.cwd,
    model_provider: metadata.modelProvider,
    memory_mode: metadata.memoryMode,
  };
}

function persistenceMetadataFromWire(
  text: string | undefined,
  field: string,
): ThreadPersistenceMetadata {
  const raw = (text ? parseJsonLoose(text, field) : {}) as Record<string, unknown>;
  return threadPersistenceMetadataSchema.parse({
    cwd: typeof raw.cwd === 'string' ? raw.cwd : null,
    modelProvider: typeof raw.model_provider === 'string' ? raw.model_provider : '',
    memoryMode: raw.memory_mode === 'disabled' ? 'disabled' : 'enabled',
  });
}

export function resumeThreadToMessage(params: ResumeThreadParams): ResumeThreadRequestMessage {
  const message: ResumeThreadRequestMessage = {
    thread_id: params.threadId,
    history_json: params.history != null ? encodeItems(params.history) : [],
    has_history: params.history != null,
    include_archived: params.includeArchived === true,
    event_persistence_mode: 'THREAD_EVENT_PERSISTENCE_MODE_LIMITED',
    metadata_defaults_json: JSON.stringify({ model_provider: params.metadata.modelProvider }),
    metadata_json: JSON.stringify(params.metadata),
  };
  if (params.rolloutPath != null) message.rollout_path = params.rolloutPath;
  return message;
}

export function resumeThreadFromMessage(message: ResumeThreadRequestMessage): ResumeThreadParams {
  const params: ResumeThreadParams = {
    threadId: parseThreadIdField(message.thread_id),
    includeArchived: message.include_archived === true,
    metadata: message.metadata_json
      ? parseJsonField(threadPersistenceMetadataSchema, message.metadata_json, 'metadata_json')
      : persistenceMetadataFromWire(message.metadata_defaults_json, 'metadata_defaults_json'),
  };
  if (message.has_history) params.history = decodeItems(message.history_json, 'history_json');
  if (message.rollout_path) params.rolloutPath = message.rollout_path;
  return params;
}
