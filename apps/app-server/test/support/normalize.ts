/**
 * Normalizes wire messages of two servers so they can be compared: paths of the two homes and
 * work dirs, fresh ids (numbered in order of appearance), times of fresh threads, `emittedAtMs`,
 * and the few fields documented as different (read receipts, config echo of start/resume/fork).
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export interface NormalizeOptions {
  /** Times at or after this (unix seconds) are "now" for the test and normalized. */
  sinceSeconds: number;
  home: string;
  workdir: string;
  /** Ids that exist in the fixture (kept as they are); every other id is "fresh". */
  knownIds: ReadonlySet<string>;
}

/** Keys of start/resume/fork results that echo config Skein does not run (model, sandbox...). */
const CONFIG_ECHO_KEYS = new Set([
  'model',
  'serviceTier',
  'approvalPolicy',
  'approvalsReviewer',
  'sandbox',
  'activePermissionProfile',
  'reasoningEffort',
  'collaborationMode',
  'instructionSources',
]);

export class Normalizer {
  readonly #fresh = new Map<string, string>();

  constructor(private readonly options: NormalizeOptions) {}

  #text(value: string): string {
    let text = value
      .split(this.options.home)
      .join('<HOME>')
      .split(this.options.workdir)
      .join('<WORKDIR>');
    // Opaque `time|id` list cursors: Codex prints whole seconds, Skein milliseconds.
    text = text.replace(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z\|/, '$1Z|');
    // Rollout file names of fresh threads carry their (local) creation second.
    text = text.replace(
      /rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(?=[0-9a-f]{8}-)/g,
      (match, offset: number) =>
        this.isFresh(text.slice(offset + match.length, offset + match.length + 36))
          ? 'rollout-<TS>-'
          : match,
    );
    text = text.replace(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/, (iso) =>
      Date.parse(iso) >= this.options.sinceSeconds * 1000 - 1000 ? '<NOW>' : iso,
    );
    text = text.replace(UUID, (id) => this.#fresh.get(id) ?? id);
    return text;
  }

  /** Threads created during the session, numbered in order of their first Thread object. */
  isFresh(id: unknown): boolean {
    return typeof id === 'string' && this.#fresh.has(id);
  }

  #register(id: string): void {
    if (!this.options.knownIds.has(id) && !this.#fresh.has(id))
      this.#fresh.set(id, `<NEW-${this.#fresh.size + 1}>`);
  }

  value(value: unknown, parentKey = ''): unknown {
    if (typeof value === 'string') return this.#text(value);
    if (Array.isArray(value)) return value.map((entry) => this.value(entry, parentKey));
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if ('sessionId' in record && 'createdAt' in record && typeof record.id === 'string')
      this.#register(record.id);
    const freshThread = 'sessionId' in record && 'createdAt' in record && this.isFresh(record.id);
    for (const [key, entry] of Object.entries(record)) {
      if (key === 'emittedAtMs' || key === 'readState' || key === 'readStates') continue;
      if (
        freshThread &&
        ['createdAt', 'updatedAt', 'recencyAt', 'cliVersion', 'model'].includes(key)
      ) {
        out[key] = '<FRESH>';
        continue;
      }
      if (
        ['createdAt', 'updatedAt', 'recencyAt'].includes(key) &&
        typeof entry === 'number' &&
        entry >= this.options.sinceSeconds
      ) {
        out[key] = '<NOW>';
        continue;
      }
      if ((key === 'startedAtMs' || key === 'completedAtMs') && typeof entry === 'number') {
        out[key] = '<MS>';
        continue;
      }
      out[key] = this.value(entry, key);
    }
    return out;
  }

  /** A result of start/resume/fork: the config echo is not compared (documented). */
  result(method: string, result: unknown): unknown {
    const normalized = this.value(result) as Record<string, unknown>;
    if (['thread/start', 'thread/resume', 'thread/fork'].includes(method) && normalized !== null) {
      for (const key of CONFIG_ECHO_KEYS) if (key in normalized) normalized[key] = '<CONFIG>';
    }
    return normalized;
  }
}

/** Keeps only the keys (recursively) that `shape` has: compares an older protocol's subset. */
export function projectOnto(value: unknown, shape: unknown): unknown {
  if (Array.isArray(value) && Array.isArray(shape)) {
    return value.map((entry, index) => projectOnto(entry, shape[index] ?? shape[0]));
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof shape === 'object' &&
    shape !== null &&
    !Array.isArray(shape)
  ) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) {
      if (key in (value as Record<string, unknown>)) {
        out[key] = projectOnto(
          (value as Record<string, unknown>)[key],
          (shape as Record<string, unknown>)[key],
        );
      }
    }
    return out;
  }
  return value;
}

/** Every leaf where `a` and `b` differ, as `path: a ≠ b` (compact, for reports). */
export function deepDiff(a: unknown, b: unknown, path = ''): string[] {
  if (Object.is(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    if (a.length !== b.length) out.push(`${path}.length: ${a.length} ≠ ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i += 1)
      out.push(...deepDiff(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  if (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const out: string[] = [];
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      out.push(
        ...deepDiff(
          (a as Record<string, unknown>)[key],
          (b as Record<string, unknown>)[key],
          `${path}.${key}`,
        ),
      );
    }
    return out;
  }
  const show = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v)?.slice(0, 160));
  return [`${path}: ${show(a)} ≠ ${show(b)}`];
}
