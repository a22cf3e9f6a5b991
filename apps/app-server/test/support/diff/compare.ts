/**
 * Compares a recording. Normalized are ONLY: ids a server generated during the run (paired
 * across the sides where they first appear; ids found in the home stay as they are),
 * timestamps that fall inside the run (a timestamp the home holds is compared exactly), the
 * two homes' paths and the shared work dir. Everything else — field sets, values, array order,
 * readStates, errors, notifications and whether they came before or after the response — is
 * compared as sent. JSON objects are compared as key sets (their key order carries nothing).
 *
 * One exception, applied to both sides alike: a `thread/status/changed` that repeats, within
 * one step, the status that step already reported for the same thread is dropped. 0.169.0
 * sometimes sends `notLoaded` twice when it unloads a thread that is being deleted or archived
 * (timing-dependent: the same sequence gives one or two); a status Skein leaves out, adds or
 * reports differently still differs.
 */
import { UUID_PATTERN } from './home-survey.js';
import type { Recording, SideName, SideRecord, StepRecord } from './runner.js';

/** Slack around the run: clocks round to whole seconds. */
const WINDOW_SLACK_MS = 3000;

export interface NormalizeContext {
  home: string;
  workdir: string;
  knownIds: ReadonlySet<string>;
  fromMs: number;
  toMs: number;
}

/** Names for ids the servers generated: paired across the two sides by where they appear. */
export class FreshIds {
  readonly #names: Record<SideName, Map<string, string>> = { codex: new Map(), skein: new Map() };
  #paired = 0;
  readonly #alone: Record<SideName, number> = { codex: 0, skein: 0 };

  constructor(private readonly knownIds: ReadonlySet<string>) {}

  #fresh(text: string): string[] {
    return [...text.matchAll(UUID_PATTERN)].map((m) => m[0]).filter((id) => !this.knownIds.has(id));
  }

  /**
   * Walks both sides' answers of one step in parallel: an id first seen on both sides at the
   * same place (same JSON path, same position in the string) gets one shared name.
   */
  pair(codex: unknown, skein: unknown): void {
    if (typeof codex === 'string' && typeof skein === 'string') {
      const a = this.#fresh(codex);
      const b = this.#fresh(skein);
      for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
        const idA = a[i] as string;
        const idB = b[i] as string;
        if (this.#names.codex.has(idA) || this.#names.skein.has(idB)) continue;
        this.#paired += 1;
        this.#names.codex.set(idA, `<ID-${this.#paired}>`);
        this.#names.skein.set(idB, `<ID-${this.#paired}>`);
      }
      return;
    }
    if (Array.isArray(codex) && Array.isArray(skein)) {
      for (let i = 0; i < Math.min(codex.length, skein.length); i += 1)
        this.pair(codex[i], skein[i]);
      return;
    }
    if (
      typeof codex === 'object' &&
      codex !== null &&
      typeof skein === 'object' &&
      skein !== null
    ) {
      const a = codex as Record<string, unknown>;
      const b = skein as Record<string, unknown>;
      for (const key of Object.keys(a)) if (key in b) this.pair(a[key], b[key]);
    }
  }

  /** The name of an id on one side (an id only that side has gets a name of its own). */
  name(side: SideName, id: string): string {
    if (this.knownIds.has(id)) return id;
    let name = this.#names[side].get(id);
    if (name === undefined) {
      this.#alone[side] += 1;
      name = `<${side.toUpperCase()}-ONLY-ID-${this.#alone[side]}>`;
      this.#names[side].set(id, name);
    }
    return name;
  }
}

export class SideNormalizer {
  constructor(
    private readonly side: SideName,
    private readonly ctx: NormalizeContext,
    private readonly ids: FreshIds,
  ) {}

  #inWindow(ms: number): boolean {
    return ms >= this.ctx.fromMs && ms <= this.ctx.toMs;
  }

  #text(value: string): string {
    let text = value.split(this.ctx.home).join('<HOME>').split(this.ctx.workdir).join('<WORKDIR>');
    // RFC 3339 times (cursors, ...) made during the run.
    text = text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, (iso) =>
      this.#inWindow(Date.parse(iso)) ? '<NOW>' : iso,
    );
    // Rollout file names carry the local creation second of a thread made during the run.
    text = text.replace(
      /rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-/g,
      (match, y: string, mo: string, d: string, h: string, mi: string, s: string) => {
        const ms = new Date(+y, +mo - 1, +d, +h, +mi, +s).getTime();
        return this.#inWindow(ms) || this.#inWindow(ms + 999) ? 'rollout-<NOW>-' : match;
      },
    );
    return text.replace(UUID_PATTERN, (id) => this.ids.name(this.side, id));
  }

  #number(value: number): unknown {
    if (!Number.isInteger(value) || value <= 0) return value;
    if (this.#inWindow(value * 1000) || this.#inWindow(value * 1000 + 999)) return '<NOW-S>';
    if (this.#inWindow(value)) return '<NOW-MS>';
    return value;
  }

  value(value: unknown): unknown {
    if (typeof value === 'string') return this.#text(value);
    if (typeof value === 'number') return this.#number(value);
    if (Array.isArray(value)) return value.map((entry) => this.value(entry));
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    // Keys too: `readStates` is keyed by thread id.
    for (const [key, entry] of Object.entries(value)) out[this.#text(key)] = this.value(entry);
    return out;
  }

  /** A side's exchange as compared: response (without the request id) and notifications. */
  exchange(record: SideRecord): unknown {
    return this.value(rawExchange(record));
  }
}

/** Drops a status notification that repeats the status already reported for its thread. */
function withoutRepeatedStatus(
  notifications: SideRecord['notifications'],
): SideRecord['notifications'] {
  const reported = new Map<string, string>();
  return notifications.filter((n) => {
    if (n.method !== 'thread/status/changed') return true;
    const params = n.params as { threadId?: unknown; status?: unknown } | undefined;
    const thread = String(params?.threadId);
    const status = JSON.stringify(params?.status);
    if (reported.get(thread) === status) return false;
    reported.set(thread, status);
    return true;
  });
}

/** What is compared of one side's step, before normalization. */
export function rawExchange(record: SideRecord): unknown {
  if (record.skipped !== undefined) return { skipped: record.skipped };
  const response = { ...(record.response ?? {}) };
  delete response.id;
  return { response, notifications: withoutRepeatedStatus(record.notifications) };
}

export interface Difference {
  path: string;
  codex: unknown;
  skein: unknown;
}

/** Every leaf where `a` and `b` differ, with its JSON path. */
export function differences(a: unknown, b: unknown, path = ''): Difference[] {
  if (Object.is(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: Difference[] = [];
    if (a.length !== b.length)
      out.push({ path: `${path}.length`, codex: a.length, skein: b.length });
    for (let i = 0; i < Math.min(a.length, b.length); i += 1)
      out.push(...differences(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const out: Difference[] = [];
    // JSON objects are unordered (0.169.0 prints `readStates` in hash-map order, which
    // changes from run to run): keys are compared as a set.
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)]))
      out.push(...differences(ra[key], rb[key], `${path}.${key}`));
    return out;
  }
  return [{ path, codex: a, skein: b }];
}

export interface KnownDifference {
  /** One step label, or one step kind together with one thread role. */
  step?: string;
  kind?: string;
  role?: string | null;
  /** One exact JSON path (as reported, e.g. `.response.result.thread.preview`). */
  path: string;
  /** When given, the entry excuses only these two values (codex's, Skein's), compared as JSON. */
  values?: readonly [unknown, unknown];
  reason: string;
}

export interface StepComparison {
  label: string;
  kind: string;
  role: string | null;
  method: string;
  equal: boolean;
  differences: (Difference & { known?: string })[];
  codex: unknown;
  skein: unknown;
}

export interface Comparison {
  steps: StepComparison[];
  agreeing: number;
  total: number;
  /** Percentage of steps whose answers and notifications are equal. */
  agreement: number;
  /** Steps whose every difference is a known one (not counted as agreeing). */
  knownOnly: number;
  /** Entries of the known list that excused something in this run. */
  usedKnown: ReadonlySet<KnownDifference>;
  /** Differences no known entry excuses. */
  unexplained: { label: string; path: string; codex: unknown; skein: unknown }[];
}

function matches(
  entry: KnownDifference,
  step: StepRecord,
  difference: { path: string; codex: unknown; skein: unknown },
): boolean {
  if (entry.path !== difference.path) return false;
  if (
    entry.values !== undefined &&
    (JSON.stringify(entry.values[0]) !== JSON.stringify(difference.codex) ||
      JSON.stringify(entry.values[1]) !== JSON.stringify(difference.skein))
  ) {
    return false;
  }
  if (entry.step !== undefined) return entry.step === step.label || entry.step === step.stepLabel;
  return entry.kind === step.kind && entry.role === step.role;
}

export function compareRecording(
  recording: Recording,
  knownIds: ReadonlySet<string>,
  known: readonly KnownDifference[] = [],
): Comparison {
  const window = {
    fromMs: recording.startedAtMs - WINDOW_SLACK_MS,
    toMs: recording.finishedAtMs + WINDOW_SLACK_MS,
  };
  const ids = new FreshIds(knownIds);
  const context = (side: SideName): NormalizeContext => ({
    home: recording.homes[side],
    workdir: recording.workdir,
    knownIds,
    ...window,
  });
  const norm: Record<SideName, SideNormalizer> = {
    codex: new SideNormalizer('codex', context('codex'), ids),
    skein: new SideNormalizer('skein', context('skein'), ids),
  };
  const steps: StepComparison[] = [];
  const unexplained: Comparison['unexplained'] = [];
  const usedKnown = new Set<KnownDifference>();
  for (const step of recording.steps) {
    ids.pair(rawExchange(step.codex), rawExchange(step.skein));
    const codex = norm.codex.exchange(step.codex);
    const skein = norm.skein.exchange(step.skein);
    const diffs = differences(codex, skein).map((d) => {
      const entry = known.find((k) => matches(k, step, d));
      if (entry === undefined) unexplained.push({ label: step.label, ...d });
      else usedKnown.add(entry);
      return entry === undefined ? d : { ...d, known: entry.reason };
    });
    steps.push({
      label: step.label,
      kind: step.kind,
      role: step.role,
      method: step.method,
      equal: diffs.length === 0,
      differences: diffs,
      codex,
      skein,
    });
  }
  const agreeing = steps.filter((s) => s.equal).length;
  const knownOnly = steps.filter(
    (s) => !s.equal && s.differences.every((d) => d.known !== undefined),
  ).length;
  return {
    steps,
    agreeing,
    total: steps.length,
    agreement: steps.length === 0 ? 0 : (100 * agreeing) / steps.length,
    unexplained,
    knownOnly,
    usedKnown,
  };
}

/** `.response.result.data[3].name` → `.response.result.data[*].name` (for grouping). */
export function genericPath(path: string): string {
  return path.replace(/\[\d+\]/g, '[*]');
}

export interface DifferenceGroup {
  method: string;
  path: string;
  steps: number;
  example: { label: string; path: string; codex: unknown; skein: unknown };
}

/** Differences grouped by method and path (array indexes folded), most steps first. */
export function groupDifferences(comparison: Comparison): DifferenceGroup[] {
  const groups = new Map<string, DifferenceGroup & { labels: Set<string> }>();
  for (const step of comparison.steps) {
    for (const d of step.differences) {
      const path = genericPath(d.path);
      const key = `${step.method} ${path}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = {
          method: step.method,
          path,
          steps: 0,
          example: { label: step.label, path: d.path, codex: d.codex, skein: d.skein },
          labels: new Set(),
        };
        groups.set(key, group);
      }
      group.labels.add(step.label);
      group.steps = group.labels.size;
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.steps - a.steps || (a.method + a.path < b.method + b.path ? -1 : 1))
    .map(({ labels: _labels, ...group }) => group);
}
