/**
 * `SessionSource` ↔ `SessionSourceMessage`: the v2 kind enum and sub-agent fields for a stock
 * peer, the full source as JSON for a Skein one (preferred when present).
 */
import { type SessionSource, sessionSourceSchema, ThreadStoreError } from '@skein/thread-store';
import type { SessionSourceKind, SessionSourceMessage } from '../proto.js';
import { parseJsonField } from './json-fields.js';

const UNIT_SOURCE_KINDS: Record<string, SessionSourceKind> = {
  cli: 'SESSION_SOURCE_KIND_CLI',
  vscode: 'SESSION_SOURCE_KIND_VSCODE',
  exec: 'SESSION_SOURCE_KIND_EXEC',
  mcp: 'SESSION_SOURCE_KIND_APP_SERVER',
  unknown: 'SESSION_SOURCE_KIND_UNKNOWN',
};

export function sessionSourceToMessage(source: SessionSource): SessionSourceMessage {
  const message: SessionSourceMessage = { source_json: JSON.stringify(source) };
  if (typeof source === 'string') {
    message.kind = UNIT_SOURCE_KINDS[source] ?? 'SESSION_SOURCE_KIND_UNKNOWN';
    return message;
  }
  if ('custom' in source)
    return { ...message, kind: 'SESSION_SOURCE_KIND_CUSTOM', custom: source.custom };
  if ('internal' in source) return { ...message, kind: 'SESSION_SOURCE_KIND_UNKNOWN' };
  const sub = source.subagent;
  if (sub === 'review') return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_REVIEW' };
  if (sub === 'compact') return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_COMPACT' };
  if (sub === 'memory_consolidation') {
    return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_MEMORY_CONSOLIDATION' };
  }
  if ('other' in sub) {
    return { ...message, kind: 'SESSION_SOURCE_KIND_SUB_AGENT_OTHER', sub_agent_other: sub.other };
  }
  const spawn = sub.thread_spawn;
  const out: SessionSourceMessage = {
    ...message,
    kind: 'SESSION_SOURCE_KIND_SUB_AGENT_THREAD_SPAWN',
    sub_agent_parent_thread_id: spawn.parent_thread_id,
    sub_agent_depth: spawn.depth,
  };
  if (spawn.agent_path != null) out.sub_agent_path = spawn.agent_path;
  if (spawn.agent_nickname != null) out.sub_agent_nickname = spawn.agent_nickname;
  if (spawn.agent_role != null) out.sub_agent_role = spawn.agent_role;
  return out;
}

export function sessionSourceFromMessage(message: SessionSourceMessage | undefined): SessionSource {
  if (!message) return 'unknown';
  if (message.source_json !== undefined && message.source_json !== '') {
    return parseJsonField(sessionSourceSchema, message.source_json, 'source_json');
  }
  switch (message.kind ?? 'SESSION_SOURCE_KIND_UNKNOWN') {
    case 'SESSION_SOURCE_KIND_CLI':
      return 'cli';
    case 'SESSION_SOURCE_KIND_VSCODE':
      return 'vscode';
    case 'SESSION_SOURCE_KIND_EXEC':
      return 'exec';
    case 'SESSION_SOURCE_KIND_APP_SERVER':
      return 'mcp';
    case 'SESSION_SOURCE_KIND_CUSTOM':
      return { custom: message.custom ?? '' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_REVIEW':
      return { subagent: 'review' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_COMPACT':
      return { subagent: 'compact' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_MEMORY_CONSOLIDATION':
      return { subagent: 'memory_consolidation' };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_OTHER':
      return { subagent: { other: message.sub_agent_other ?? '' } };
    case 'SESSION_SOURCE_KIND_SUB_AGENT_THREAD_SPAWN': {
      if (!message.sub_agent_parent_thread_id) {
        throw ThreadStoreError.invalidRequest(
          'remote thread store omitted sub-agent parent thread id',
        );
      }
      return {
        subagent: {
          thread_spawn: {
            parent_thread_id: message.sub_agent_parent_thread_id,
            depth: message.sub_agent_depth ?? 0,
            agent_path: message.sub_agent_path ?? null,
            agent_nickname: message.sub_agent_nickname ?? null,
            agent_role: message.sub_agent_role ?? null,
          },
        },
      };
    }
    default:
      return 'unknown';
  }
}
