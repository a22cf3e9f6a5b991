/**
 * Thread-id parsing with the Rust `uuid` crate's error wording, which the Codex app-server
 * passes through (`invalid thread id: <uuid error>`, spec §0.2).
 */

const HEX = /^[0-9a-fA-F]$/;
const GROUP_LENGTHS = [8, 4, 4, 4, 12] as const;

/** Why `text` is not a UUID, in the uuid crate's words; null when it is one. */
export function uuidParseError(text: string): string | null {
  let body = text;
  let offset = 0;
  if (body.startsWith('urn:uuid:')) {
    body = body.slice('urn:uuid:'.length);
    offset = 'urn:uuid:'.length;
  } else if (body.startsWith('{') && body.endsWith('}')) {
    body = body.slice(1, -1);
    offset = 1;
  }
  let position = 0;
  for (const ch of body) {
    position += 1;
    if (ch !== '-' && !HEX.test(ch)) {
      return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${position + offset}`;
    }
  }
  if (!body.includes('-')) {
    return body.length === 32
      ? null
      : `invalid length: expected length 32 for simple format, found ${body.length}`;
  }
  const groups = body.split('-');
  if (groups.length !== GROUP_LENGTHS.length) {
    return `invalid group count: expected 5, found ${groups.length}`;
  }
  for (let i = 0; i < GROUP_LENGTHS.length; i += 1) {
    const expected = GROUP_LENGTHS[i] ?? 0;
    const found = groups[i]?.length ?? 0;
    if (found !== expected) {
      return `invalid group length in group ${i}: expected ${expected}, found ${found}`;
    }
  }
  return null;
}

/** The canonical (lowercase, hyphenated) form of a UUID string already known to parse. */
export function canonicalUuid(text: string): string {
  const hex = text
    .replace(/^urn:uuid:/, '')
    .replace(/[{}-]/g, '')
    .toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Parses a thread id or returns the uuid error text. */
export function tryParseThreadId(
  text: string,
): { ok: true; id: string } | { ok: false; error: string } {
  const error = uuidParseError(text);
  return error === null ? { ok: true, id: canonicalUuid(text) } : { ok: false, error };
}
