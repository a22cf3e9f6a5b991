/**
 * A JSON-RPC message fuzzer for the app-server: garbage lines, JSON that is no message,
 * requests to known, unsupported and unknown methods with params of the wrong types, missing
 * and extra fields, huge strings, deep nesting, odd ids, notifications and stray responses.
 * Each message says whether JSON-RPC obliges the server to answer it (an object with a
 * string `method` and an integer or string `id`), and with which id.
 */
import type { Rng } from '@skein/test-support';

export interface FuzzMessage {
  text: string;
  /** The id an answer must carry, when the message is a request. */
  expectId?: string | number;
  kind: string;
}

/** Every method Skein serves, plus a few Codex knows and Skein does not, plus nonsense. */
const METHODS = [
  'thread/start',
  'thread/resume',
  'thread/fork',
  'thread/read',
  'thread/list',
  'thread/loaded/list',
  'thread/archive',
  'thread/unarchive',
  'thread/delete',
  'thread/unsubscribe',
  'thread/name/set',
  'thread/metadata/update',
  'thread/turns/list',
  'thread/items/list',
  'thread/inject_items',
  'thread/readState/update',
  'thread/search',
  'turn/start',
  'fs/readFile',
  'initialize',
  'no/such/method',
  '',
  'thread/../../etc',
];

/** Values of every JSON type, some of them nasty. */
function randomValue(rng: Rng, depth = 0): unknown {
  const roll = rng.int(0, depth > 3 ? 6 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE]);
    case 3:
      return randomString(rng, rng.int(0, 40));
    case 4:
      return rng.pick([
        '',
        ' ',
        '\u0000',
        '../../etc/passwd',
        '/etc/passwd',
        '\u202e',
        '💥'.repeat(5),
      ]);
    case 5:
      return rng.pick([
        '01a20154-1916-7c91-82a1-7938e7a77c84',
        '00000000-0000-0000-0000-000000000000',
      ]);
    case 6:
      return randomString(rng, 8);
    case 7:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i -= 1) out[randomKey(rng)] = randomValue(rng, depth + 1);
      return out;
    }
  }
}

const KEYS = [
  'threadId',
  'name',
  'cwd',
  'path',
  'items',
  'limit',
  'cursor',
  'includeTurns',
  'archived',
  'sortKey',
  'gitInfo',
  'history',
  'model',
  'operation',
  'expectedRevision',
  '__proto__',
  'constructor',
];

function randomKey(rng: Rng): string {
  return rng.chance(0.8) ? rng.pick(KEYS) : randomString(rng, rng.int(0, 12));
}

function randomString(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) {
    const roll = rng.next();
    out += String.fromCodePoint(
      roll < 0.7
        ? rng.int(0x20, 0x7e)
        : roll < 0.9
          ? rng.int(0xa0, 0x2fff)
          : rng.int(0x1f300, 0x1f5ff),
    );
  }
  return out;
}

/** `[[[…1…]]]` or `{"a":{"a":…}}`, `depth` levels. */
function deepNesting(rng: Rng, depth: number): string {
  return rng.chance(0.5)
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export interface FuzzOptions {
  /** Existing thread ids (most params aim at real threads). */
  threadIds: readonly string[];
  /** Largest "huge" string in bytes. */
  hugeBytes: number;
}

/** The n-th fuzz message. Requests get the id `fz-<n>` or `n` unless the id itself is fuzzed. */
export function fuzzMessage(rng: Rng, n: number, options: FuzzOptions): FuzzMessage {
  const roll = rng.next();
  if (roll < 0.08) {
    // Not JSON at all (no newline inside: one line is one message).
    return { text: randomString(rng, rng.int(0, 200)).replace(/\n/g, ' '), kind: 'garbage' };
  }
  if (roll < 0.12) {
    return { text: JSON.stringify(randomValue(rng)) ?? 'null', kind: 'json, not a message' };
  }
  if (roll < 0.16) {
    return {
      text: JSON.stringify({ method: rng.pick(METHODS), params: randomValue(rng) }),
      kind: 'notification',
    };
  }
  if (roll < 0.18) {
    return { text: JSON.stringify({ id: n, result: randomValue(rng) }), kind: 'stray response' };
  }
  if (roll < 0.21) {
    // Odd ids: a float or an object is no request id (dropped); a long string or a negative
    // integer is one.
    const id = rng.pick<unknown>([1.5, { a: 1 }, [n], true, `${'x'.repeat(2000)}-${n}`, -n - 1]);
    const valid = typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id));
    return {
      text: JSON.stringify({ id, method: 'thread/loaded/list', params: {} }),
      ...(valid ? { expectId: id as string | number } : {}),
      kind: 'odd id',
    };
  }
  const id = rng.chance(0.5) ? n : `fz-${n}`;
  const method = rng.pick(METHODS);
  if (roll < 0.23) {
    const depth = rng.pick([50, 129, 1_000, 20_000]);
    const deep = deepNesting(rng, depth);
    const threadId = JSON.stringify(rng.pick(options.threadIds));
    // Deep where a schema stops it (a name), and inside a well-formed response item.
    const params = rng.pick([
      `{"threadId":${threadId},"name":${deep}}`,
      `{"threadId":${threadId},"items":[${deep}]}`,
      `{"threadId":${threadId},"items":[{"type":"message","role":"user","content":${deep}}]}`,
      `{"cwd":"/tmp","config":${deep}}`,
    ]);
    return {
      text: `{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${params}}`,
      expectId: id,
      kind: 'deep nesting',
    };
  }
  if (roll < 0.245) {
    const size = rng.int(1_000, options.hugeBytes);
    const huge = 'h'.repeat(size);
    const params = rng.pick([
      { threadId: rng.pick(options.threadIds), name: huge },
      {
        threadId: rng.pick(options.threadIds),
        items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: huge }] }],
      },
      { cwd: huge },
      { threadId: huge },
      { limit: 5, cursor: huge },
    ]);
    return { text: JSON.stringify({ id, method, params }), expectId: id, kind: 'huge params' };
  }
  // A request: mostly well-aimed params with one thing wrong, sometimes anything at all.
  let params: unknown;
  if (rng.chance(0.3)) params = randomValue(rng);
  else {
    const base: Record<string, unknown> = { threadId: rng.pick(options.threadIds) };
    for (let i = rng.int(0, 3); i > 0; i -= 1) base[randomKey(rng)] = randomValue(rng);
    if (method === 'thread/inject_items' && rng.chance(0.5)) {
      base.items = Array.from({ length: rng.int(0, 3) }, () =>
        rng.chance(0.7)
          ? {
              type: 'message',
              role: 'user',
              content: [{ type: 'input_text', text: randomString(rng, 20) }],
            }
          : randomValue(rng),
      );
    }
    params = base;
  }
  const message: Record<string, unknown> = { id, method };
  if (!rng.chance(0.05)) message.params = params;
  if (rng.chance(0.1)) message.jsonrpc = rng.pick(['2.0', '1.0', 2]);
  return { text: JSON.stringify(message), expectId: id, kind: 'request' };
}
