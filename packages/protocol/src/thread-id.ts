import { randomBytes } from 'node:crypto';
import * as z from 'zod';

/** A thread id: a lowercase hyphenated UUID string (v7 for threads Skein creates). */
export type ThreadId = string & { readonly __brand: 'ThreadId' };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a thread id (a UUID in its canonical text form). */
export function isThreadId(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Parses a UUID string into a ThreadId (lowercased); throws on anything else. */
export function parseThreadId(value: string): ThreadId {
  if (!isThreadId(value)) throw new Error(`invalid thread id: ${value}`);
  return value.toLowerCase() as ThreadId;
}

let lastMs = 0;
let sequence = 0;

/** A new UUIDv7: 48-bit unix ms, then a 12-bit counter so ids made in one ms still sort. */
export function newThreadId(nowMs: number = Date.now()): ThreadId {
  if (nowMs <= lastMs) {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs += 1;
  } else {
    lastMs = nowMs;
    sequence = randomBytes(2).readUInt16BE(0) & 0x7ff;
  }
  const bytes = randomBytes(16);
  const ms = BigInt(lastMs);
  for (let i = 0; i < 6; i += 1) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | ((sequence >> 8) & 0x0f);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as ThreadId;
}

/** Zod schema of `ThreadId`: validates one where it enters (a wire, a file, a config). */
export const threadIdSchema = z
  .string()
  .refine(isThreadId, 'invalid thread id')
  .transform((value): ThreadId => value.toLowerCase() as ThreadId);
