/** Small text helpers for tables and transcripts (no colour here; callers add it). */

/**
 * A whole number with `,` between thousands (`10,000`), as `toLocaleString('en-US')` prints it
 * without loading ICU's locale data (its first call costs a `skein` start tens of ms).
 */
export function groupThousands(n: number): string {
  const digits = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < digits.length; i += 1) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 && out !== '0' ? `-${out}` : out;
}

/** Collapses whitespace and cuts to `max` visible characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  return `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** `2026-11-22 03:37` in local time: what people read in a table. */
export function shortDateTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "3 min ago", "2 d ago": relative age against `nowMs`. */
export function relativeAge(ms: number, nowMs: number = Date.now()): string {
  const seconds = Math.round((nowMs - ms) / 1000);
  if (seconds < 0) return 'in the future';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 60) return `${days} d ago`;
  return `${Math.round(days / 30)} mo ago`;
}

/** Replaces the home directory prefix with `~` so paths fit in a column. */
export function tildePath(path: string, home: string | undefined): string {
  if (home && (path === home || path.startsWith(`${home}/`))) return `~${path.slice(home.length)}`;
  return path;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes start with ESC.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Columns a code point takes on a terminal: 0 (combining, zero-width), 1, or 2 (wide). */
function codePointWidth(code: number): number {
  if ((code >= 0x300 && code <= 0x36f) || (code >= 0x200b && code <= 0x200f) || code === 0xfe0f) {
    return 0;
  }
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Terminal columns `text` takes (colour codes take none, CJK and emoji two). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text.replace(ANSI, '')) width += codePointWidth(char.codePointAt(0) ?? 0);
  return width;
}

/** `oneLine`, cut to `max` terminal columns instead of characters. */
export function fitDisplay(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (displayWidth(flat) <= max) return flat;
  let out = '';
  let width = 0;
  for (const char of flat) {
    const w = codePointWidth(char.codePointAt(0) ?? 0);
    if (width + w > max - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/** Pads `text` with spaces to `width` terminal columns. */
export function padDisplay(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}
