/**
 * Bounds on what a client may send, each refused with a clear error before any work is done:
 * the size of one message (both transports), how deeply its JSON nests, and the sizes of the
 * params that land in a rollout (injected items). Names are bounded by the store (16 KiB).
 */
import { RpcError } from '../errors.js';

/** Largest JSON-RPC message accepted on either transport: 16 MiB, where 0.169.0 drops them. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects in one message. serde_json, which parses Codex's
 * messages, stops at 128; deeper values would overflow the stack when written to a rollout.
 */
export const MAX_JSON_DEPTH = 128;

/** Most items one `thread/inject_items` may append. */
export const MAX_INJECT_ITEMS = 10_000;
/** Largest injected item, as JSON: 1 MiB, as Codex bounds one user input's text. */
export const MAX_INJECT_ITEM_BYTES = 1024 * 1024;

/**
 * How deeply `text` nests (arrays and objects, outside strings), stopping early once past
 * `limit`. Linear in the text; no parse needed.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * The request id of a message cut off by the size bound, read from its first bytes when it is
 * a top-level `"id"` (so the client still gets an answer), else null.
 */
export function leadingRequestId(prefix: string): string | number | null {
  let depth = 0;
  let inString = false;
  let keyStart = -1;
  for (let i = 0; i < prefix.length; i += 1) {
    const c = prefix[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') {
        inString = false;
        if (depth === 1 && keyStart >= 0 && prefix.slice(keyStart, i) === 'id') {
          const rest = /^\s*:\s*(-?\d+(?![.eE\d])|"(?:[^"\\]|\\.)*")/.exec(prefix.slice(i + 1));
          if (rest?.[1] === undefined) return null;
          const value: unknown = JSON.parse(rest[1]);
          return typeof value === 'number' && !Number.isSafeInteger(value)
            ? null
            : (value as string | number);
        }
        keyStart = -1;
      }
    } else if (c === '"') {
      inString = true;
      // A key starts a member of the top-level object (after `{` or `,`).
      keyStart = depth === 1 && /[{,]\s*$/.test(prefix.slice(Math.max(0, i - 8), i)) ? i + 1 : -1;
    } else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
  }
  return null;
}

/** The error answered for a message over the size bound. */
export function messageTooLarge(maxBytes: number): RpcError {
  return RpcError.invalidRequest(
    `Invalid request: message larger than ${maxBytes} bytes (the limit); it was not read`,
  );
}

/** Refuses params over the bounds of their method (raw params, before any handler runs). */
export function checkParamBounds(method: string, params: unknown): void {
  if (method !== 'thread/inject_items') return;
  const items = (params as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return;
  if (items.length > MAX_INJECT_ITEMS) {
    throw RpcError.invalidRequest(
      `items must hold at most ${MAX_INJECT_ITEMS} items per call (got ${items.length})`,
    );
  }
  for (const [index, item] of items.entries()) {
    const bytes = Buffer.byteLength(JSON.stringify(item) ?? '');
    if (bytes > MAX_INJECT_ITEM_BYTES) {
      throw RpcError.invalidRequest(
        `items[${index}] must be at most ${MAX_INJECT_ITEM_BYTES} bytes as JSON (got ${bytes})`,
      );
    }
  }
}
