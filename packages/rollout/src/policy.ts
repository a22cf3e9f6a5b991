import type { RolloutItem } from './schema.js';

/*
 * The persistence policy (spec rollout-state §3.5): which canonical items a rollout keeps.
 */

const PERSISTED_RESPONSE_ITEMS: ReadonlySet<string> = new Set([
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

const PERSISTED_EVENTS: ReadonlySet<string> = new Set([
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
  'task_complete',
  'web_search_end',
  'image_generation_end',
  'sub_agent_activity',
  // The settings a session applies: 0.169 records them in legacy rollouts too (on resume).
  'thread_settings_applied',
]);

/** `item_completed` is kept only for these turn items. */
const PERSISTED_COMPLETED_ITEMS: ReadonlySet<string> = new Set(['Plan', 'Sleep']);

/** Events 0.169 adds to a paginated rollout (turn items are `item_completed` there). */
const PAGINATED_EVENTS: ReadonlySet<string> = new Set(['item_completed']);

/**
 * Which history a policy is for: `legacy` lines, or 0.169's `paginated` history, which also
 * keeps every completed turn item (its turns are built from them), the settings snapshots,
 * and line kinds this version does not know (`world_state`, `token_usage_record`, ...). The
 * paginated policy keeps everything the legacy one keeps.
 */
export type PersistencePolicyMode = 'legacy' | 'paginated';

/** Whether a rollout keeps this item. Everything the policy does not name is dropped. */
export function isPersistedRolloutItem(
  item: RolloutItem,
  mode: PersistencePolicyMode = 'legacy',
): boolean {
  switch (item.type) {
    case 'session_meta':
    case 'turn_context':
    case 'compacted':
    case 'inter_agent_communication':
      return true;
    case 'response_item':
      return PERSISTED_RESPONSE_ITEMS.has(item.payload.type);
    case 'event_msg': {
      const type = item.payload.type;
      // The aliases are read-side spellings; they are persisted under the canonical name.
      if (type === 'turn_started' || type === 'turn_complete') return true;
      if (PERSISTED_EVENTS.has(type)) return true;
      if (mode === 'paginated' && PAGINATED_EVENTS.has(type)) return true;
      if (type !== 'item_completed') return false;
      const inner = (item.payload as { item?: { type?: unknown } }).item;
      return typeof inner?.type === 'string' && PERSISTED_COMPLETED_ITEMS.has(inner.type);
    }
    default:
      return mode === 'paginated';
  }
}

/** The items of `items` that a rollout keeps, in order. */
export function persistedRolloutItems(
  items: Iterable<RolloutItem>,
  mode: PersistencePolicyMode = 'legacy',
): RolloutItem[] {
  const kept: RolloutItem[] = [];
  for (const item of items) if (isPersistedRolloutItem(item, mode)) kept.push(item);
  return kept;
}
