/**
 * JSON fields of `codex.thread_store.v1` messages: parsed with a schema (or loosely), and
 * thread ids and rollout items in and out. Anything that does not parse fails `InvalidRequest`
 * naming the field.
 */
import {
  type RolloutItem,
  rolloutItemSchema,
  type ThreadId,
  ThreadStoreError,
  threadIdSchema,
} from '@skein/thread-store';
import type * as z from 'zod';

/** Parses JSON text with a schema; any failure is `InvalidRequest` naming the field. */
export function parseJsonField<S extends z.ZodType>(
  schema: S,
  text: string | undefined,
  field: string,
): z.output<S> {
  if (text === undefined || text === '') {
    throw ThreadStoreError.invalidRequest(`remote thread store request is missing ${field}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw ThreadStoreError.invalidRequest(`invalid ${field}: ${String(error)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw ThreadStoreError.invalidRequest(`invalid ${field}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export function parseThreadIdField(text: string | undefined, field = 'thread_id'): ThreadId {
  const parsed = threadIdSchema.safeParse(text ?? '');
  if (!parsed.success) throw ThreadStoreError.invalidRequest(`invalid ${field}: ${text ?? ''}`);
  return parsed.data;
}

export function encodeItems(items: readonly RolloutItem[]): string[] {
  return items.map((item) => JSON.stringify(item));
}

export function decodeItems(texts: readonly string[] | undefined, field: string): RolloutItem[] {
  return (texts ?? []).map((text) => parseJsonField(rolloutItemSchema, text, field));
}

/** Parses JSON text a peer returned, without a schema; bad JSON fails `InvalidRequest`. */
export function parseJsonLoose(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ThreadStoreError.invalidRequest(
      `remote thread store returned invalid ${field}: ${String(error)}`,
    );
  }
}
