/**
 * The two text forms of a time in a Codex home: RFC 3339 (lines, cursors) and the rollout file
 * name's `YYYY-MM-DDThh-mm-ss`. Both parse to integer milliseconds since the epoch.
 */

const RFC3339_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/;
const FILE_TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})$/;

/** RFC 3339 (any number of fraction digits, truncated to ms) to epoch ms; null if invalid. */
export function parseRfc3339Ms(text: string): number | null {
  const match = RFC3339_PATTERN.exec(text);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let value = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  if (Number.isNaN(value)) return null;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    value -= sign * offsetMinutes * 60_000;
  }
  return value;
}

/** A rollout file name's time (`YYYY-MM-DDThh-mm-ss`, read as UTC) to epoch ms; null if invalid. */
export function parseFileTimestamp(text: string): number | null {
  const match = FILE_TIMESTAMP_PATTERN.exec(text);
  if (match === null) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 31 February over into March; such a name is not a time.
  if (new Date(ms).getUTCDate() !== d) return null;
  return ms;
}
