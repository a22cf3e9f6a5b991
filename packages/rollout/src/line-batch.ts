/*
 * A recorder's buffered lines and their encoding into one write.
 */

/** A buffered line: its text and what it records. */
export interface PendingLine {
  text: string;
  item: { type: string; payload: unknown };
  ordinal: number | null;
}

/**
 * Where batches are encoded: one buffer reused by every recorder (an encode and its write run
 * in one synchronous step, so no two uses overlap). Kept up to 1 MiB; a larger batch gets its
 * own buffer.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_LIMIT = 1024 * 1024;

/**
 * The batch as UTF-8 (an optional leading `\n`, then each line and its `\n`), encoded once;
 * `ends[i]` receives the offset just past line i's `\n` within the batch.
 */
export function encodeLines(
  lines: readonly PendingLine[],
  lead: boolean,
  ends: number[] | null,
): { bytes: Buffer; length: number } {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair 4 for its 2 units).
  let bound = lead ? 1 : 0;
  for (const line of lines) bound += line.text.length * 3 + 1;
  let bytes = scratch;
  if (bound > bytes.length) {
    bytes = Buffer.allocUnsafe(bound);
    if (bound <= SCRATCH_LIMIT) scratch = bytes;
  }
  let offset = 0;
  if (lead) bytes[offset++] = 0x0a;
  for (let index = 0; index < lines.length; index += 1) {
    offset += bytes.write((lines[index] as PendingLine).text, offset);
    bytes[offset++] = 0x0a;
    if (ends !== null) ends[index] = offset;
  }
  return { bytes, length: offset };
}
