/**
 * Small readers over raw rollout items used by the stores and metadata sync: the persistence
 * policy (spec rollout-state §3.5), the "affects metadata" test, and user-message previews.
 * Items arrive as `{type, payload}` with unknown payloads, so every accessor is defensive.
 */
import {
  isPersistedRolloutItem,
  persistedRolloutItems,
  rolloutItemAffectsMetadata,
} from '@skein/rollout';
import type { RolloutItem } from './types.js';

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

/** The rollout persistence policy (spec rollout-state §3.5), from the rollout package. */
export { isPersistedRolloutItem, persistedRolloutItems };

/** Whether an item carries facts that change thread metadata (spec thread-store §6.2). */
export function itemAffectsThreadMetadata(item: RolloutItem): boolean {
  return rolloutItemAffectsMetadata(item);
}

export function isTurnStarted(item: RolloutItem): boolean {
  const kind = eventType(item);
  return kind === 'task_started' || kind === 'turn_started';
}
