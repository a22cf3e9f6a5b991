/**
 * Small readers over raw rollout items used by the stores and metadata sync: the persistence
 * policy (spec rollout-state §3.5), the "affects metadata" test, and user-message previews.
 * Items arrive as `{type, payload}` with unknown payloads, so every accessor is defensive.
 */
import { rolloutItemAffectsMetadata } from '@skein/rollout';
import type { RolloutItem } from './types.js';

const PERSISTED_RESPONSE_ITEM_TYPES = new Set([
  'message',
  'agent_message',
  'reasoning',
  'local_shell_call',
  'function_call',
  'tool_search_call',
  'function_call_output',
  'tool_search_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'web_search_call',
  'image_generation_call',
  'compaction',
  'context_compaction',
  'additional_tools',
]);

const PERSISTED_EVENT_TYPES = new Set([
  'user_message',
  'agent_message',
  'agent_reasoning',
  'agent_reasoning_raw_content',
  'patch_apply_end',
  'token_count',
  'thread_goal_updated',
  'context_compacted',
  'entered_review_mode',
  'exited_review_mode',
  'mcp_tool_call_end',
  'thread_rolled_back',
  'turn_aborted',
  'task_started',
  'turn_started',
  'task_complete',
  'turn_complete',
  'web_search_end',
  'image_generation_end',
  'sub_agent_activity',
]);

const ALWAYS_PERSISTED_KINDS = new Set([
  'session_meta',
  'turn_context',
  'compacted',
  'inter_agent_communication',
  'inter_agent_communication_metadata',
]);

export function payloadRecord(item: RolloutItem): Record<string, unknown> {
  const payload: unknown = item.payload;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? (payload as Record<string, unknown>)
    : {};
}

export function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/** The `payload.type` of an `event_msg` item, or undefined for other kinds. */
export function eventType(item: RolloutItem): string | undefined {
  return item.type === 'event_msg' ? item.payload.type : undefined;
}

/** Whether an item belongs in durable replay history. */
export function isPersistedRolloutItem(item: RolloutItem): boolean {
  if (ALWAYS_PERSISTED_KINDS.has(item.type)) return true;
  const payload = payloadRecord(item);
  const kind = stringField(payload, 'type');
  if (item.type === 'response_item') {
    return kind !== undefined && PERSISTED_RESPONSE_ITEM_TYPES.has(kind);
  }
  if (item.type === 'event_msg') {
    if (kind === undefined) return false;
    if (PERSISTED_EVENT_TYPES.has(kind)) return true;
    if (kind === 'item_completed') {
      const inner = payload.item;
      const innerType =
        typeof inner === 'object' && inner !== null
          ? (inner as Record<string, unknown>).type
          : undefined;
      return innerType === 'Plan' || innerType === 'Sleep';
    }
    return false;
  }
  return false;
}

/** Keeps only the items the persistence policy writes, in order. */
export function persistedRolloutItems(items: readonly RolloutItem[]): RolloutItem[] {
  return items.filter(isPersistedRolloutItem);
}

/** Whether an item carries facts that change thread metadata (spec thread-store §6.2). */
export function itemAffectsThreadMetadata(item: RolloutItem): boolean {
  return rolloutItemAffectsMetadata(item);
}

export function isTurnStarted(item: RolloutItem): boolean {
  const kind = eventType(item);
  return kind === 'task_started' || kind === 'turn_started';
}
