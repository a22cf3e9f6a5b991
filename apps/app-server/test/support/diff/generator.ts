/**
 * Generates a request sequence from what a home holds (a HomeSurvey, never hard-coded ids):
 * pure reads first (every `thread/list` sort × direction × limit, each filter of spec §2.5,
 * pages followed forwards to the end and back with `backwardsCursor`, every thread read with
 * and without turns, turns and items paged both ways), then mutation episodes in a seeded
 * order on seeded targets, every mutation followed by a list and a read of its target.
 * The same survey and seed always give the same sequence.
 */
import { relative } from 'node:path';
import type { HomeSurvey, SurveyedThread } from './home-survey.js';
import { ref, type Step, type Template } from './sequence.js';

export interface GenerateOptions {
  seed: number;
  /** The server cwd both servers run in (relative `cwd` params resolve against it). */
  workdir: string;
}

/** A UUID no home holds (version 7 layout). */
export const UNKNOWN_ID = '01a20129-0000-7000-8000-00000000d1ff';

const SORT_KEYS = ['created_at', 'updated_at', 'recency_at'] as const;
const DIRECTIONS = ['desc', 'asc'] as const;
const LIMITS = [undefined, 0, 1, 3, 100] as const;
const SOURCE_KINDS = [
  'cli',
  'vscode',
  'exec',
  'appServer',
  'subAgent',
  'subAgentReview',
  'subAgentCompact',
  'subAgentThreadSpawn',
  'subAgentOther',
  'unknown',
] as const;
const MAX_PAGES = 40;

/** mulberry32: small, fast and the same everywhere. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Dice {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(values: readonly T[]): T {
    if (values.length === 0) throw new Error('pick from an empty list');
    return values[this.int(values.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(values: readonly T[]): T[] {
    const out = [...values];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

type Params = { [key: string]: Template | undefined };

/** Compact, stable text of params for labels (refs shown by their path only). */
function paramText(params: Params): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const text = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'object' && v !== null && '$ref' in v ? '<ref>' : v,
    );
    parts.push(`${key}=${text}`);
  }
  return parts.join(' ');
}

interface ThreadFacts {
  thread: SurveyedThread;
  handle: string;
  role: string;
  listed: boolean;
  children: SurveyedThread[];
  forks: SurveyedThread[];
}

function describeThreads(survey: HomeSurvey): ThreadFacts[] {
  const byId = new Map(survey.threads.map((t) => [t.id, t]));
  return survey.threads.map((thread, index) => {
    const children = survey.threads.filter((t) => t.parentThreadId === thread.id);
    const forks = survey.threads.filter((t) => t.forkedFromId === thread.id);
    let role = 'plain';
    if (thread.parentThreadId !== null) role = 'spawnChild';
    else if (children.length > 0) role = 'spawnParent';
    else if (thread.forkedFromId !== null && byId.has(thread.forkedFromId)) role = 'fork';
    else if (forks.length > 0) role = 'forkSource';
    else if (thread.archived) role = 'archived';
    else if (thread.name !== null) role = 'named';
    return {
      thread,
      handle: `t${String(index + 1).padStart(2, '0')}`,
      role,
      listed: thread.userMessages.length > 0,
      children,
      forks,
    };
  });
}

/** Words of the threads' titles, for search terms that match some threads and not others. */
function titleWords(threads: readonly ThreadFacts[]): string[] {
  const counts = new Map<string, number>();
  for (const { thread } of threads) {
    const title = thread.userMessages[0] ?? '';
    for (const word of new Set(title.split(/[^\p{L}\p{N}]+/u))) {
      if (word.length >= 4) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([word]) => word);
}

export function generateSequence(survey: HomeSurvey, options: GenerateOptions): Step[] {
  const dice = new Dice(prng(options.seed));
  const facts = describeThreads(survey);
  const steps: Step[] = [];
  const labels = new Set<string>();
  const add = (step: Step): Step => {
    let label = step.label;
    for (let n = 2; labels.has(label); n += 1) label = `${step.label} (${n})`;
    labels.add(label);
    const placed = { ...step, label };
    steps.push(placed);
    return placed;
  };
  const active = facts.filter((f) => !f.thread.archived);
  const archived = facts.filter((f) => f.thread.archived);
  const providers = [...new Set(survey.threads.map((t) => t.modelProvider))].sort();
  const cwds = [...new Set(survey.threads.map((t) => t.cwd))].sort();
  const spawnParents = facts.filter((f) => f.children.length > 0);
  const all: Params = { modelProviders: [] };

  // --- thread/loaded/list
  add({
    label: 'loaded {}',
    kind: 'loaded-list',
    role: null,
    method: 'thread/loaded/list',
    params: {},
  });
  add({
    label: 'loaded (no params)',
    kind: 'loaded-list',
    role: null,
    method: 'thread/loaded/list',
  });
  add({
    label: 'loaded cursor=bad',
    kind: 'loaded-list',
    role: null,
    method: 'thread/loaded/list',
    params: { cursor: 'bad' },
  });

  /** A list chain forwards to the end, and (optionally) back from its last page. */
  const listChain = (kind: string, params: Params, back: boolean): void => {
    const label = `list ${paramText(params)}`.trim();
    const first = add({
      label,
      kind,
      role: null,
      method: 'thread/list',
      params,
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    if (!back) return;
    const direction = params.sortDirection === 'asc' ? 'desc' : 'asc';
    const backParams: Params = {
      ...params,
      sortDirection: direction,
      cursor: ref(`${first.label} #last`, 'result.backwardsCursor'),
    };
    add({
      label: `${first.label} ← back`,
      kind: `${kind}-back`,
      role: null,
      method: 'thread/list',
      params: backParams,
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
  };

  // --- thread/list: every sort key × direction × limit, paged both ways.
  for (const sortKey of SORT_KEYS) {
    for (const sortDirection of DIRECTIONS) {
      for (const limit of LIMITS) {
        listChain('list', { sortKey, sortDirection, limit }, true);
      }
    }
  }

  // --- thread/list filters, each with a seeded sort, direction and page size.
  const sortChoice = (): Params => ({
    sortKey: dice.pick([undefined, ...SORT_KEYS]),
    sortDirection: dice.pick([undefined, ...DIRECTIONS]),
    limit: dice.pick([undefined, 1, 3]),
  });
  const filter = (params: Params, back = dice.chance(0.5)) =>
    listChain('list-filter', { ...params, ...sortChoice() }, back);

  filter({ modelProviders: [] });
  for (const provider of providers) filter({ modelProviders: [provider] });
  filter({ modelProviders: ['no-such-provider'] });
  filter({ modelProviders: [...providers, 'no-such-provider'] });
  filter({ ...all, archived: true });
  filter({ ...all, archived: false });
  filter({ archived: true });
  for (const cwd of cwds) filter({ ...all, cwd });
  if (cwds.length >= 2) filter({ ...all, cwd: dice.shuffle(cwds).slice(0, 2) });
  filter({ ...all, cwd: [] });
  const someCwd = dice.pick(cwds.length > 0 ? cwds : ['/']);
  filter({ ...all, cwd: relative(options.workdir, someCwd) });
  filter({ ...all, cwd: `${someCwd}/` });
  filter({ ...all, cwd: 'a' });
  filter({ ...all, archived: true, cwd: dice.pick(cwds.length > 0 ? cwds : ['/']) });
  filter({ ...all, sourceKinds: [] });
  for (const kind of SOURCE_KINDS) filter({ ...all, sourceKinds: [kind] });
  filter({ ...all, sourceKinds: ['cli', 'vscode', 'subAgentThreadSpawn'] });
  filter({ sourceKinds: ['subAgent'] });
  filter({ ...all, archived: true, sourceKinds: ['subAgentThreadSpawn', 'vscode'] });

  const words = titleWords(facts);
  const terms = new Set<string>(words.slice(0, 4));
  const rareWord = words.at(-1);
  if (rareWord !== undefined) terms.add(rareWord);
  const firstWord = words[0];
  if (firstWord !== undefined) {
    terms.add(firstWord.toUpperCase());
    terms.add(firstWord.toLowerCase());
    terms.add(firstWord.slice(1, -1));
  }
  const unicode = words.find((w) => [...w].some((c) => (c.codePointAt(0) ?? 0) > 0x7f));
  if (unicode !== undefined) terms.add(unicode);
  const named = facts.find((f) => f.thread.name !== null);
  if (named?.thread.name) terms.add(named.thread.name.split(' ')[0] ?? named.thread.name);
  terms.add('no-such-term-xyz');
  terms.add('');
  for (const searchTerm of terms) filter({ ...all, searchTerm });
  for (const f of archived.slice(0, 2)) {
    const word = (f.thread.userMessages[0] ?? '').split(' ')[0];
    if (word) filter({ ...all, archived: true, searchTerm: word });
  }
  filter({ ...all, useStateDbOnly: true });
  filter({ useStateDbOnly: true, searchTerm: firstWord ?? 'x' });
  filter({ ...all, excludedThreadIds: [] });
  const listedActive = active.filter((f) => f.listed);
  if (listedActive.length > 0) {
    const shuffled = dice.shuffle(listedActive);
    filter({ ...all, excludedThreadIds: [shuffled[0]?.thread.id ?? UNKNOWN_ID] });
    filter({ ...all, excludedThreadIds: shuffled.slice(0, 3).map((f) => f.thread.id) });
  }
  for (const parent of spawnParents) {
    filter({ parentThreadId: parent.thread.id });
    filter({ ancestorThreadId: parent.thread.id });
    filter({ ...all, archived: true, parentThreadId: parent.thread.id });
  }
  const childless = facts.find((f) => f.children.length === 0 && f.listed);
  if (childless !== undefined) filter({ parentThreadId: childless.thread.id });
  filter({ ancestorThreadId: UNKNOWN_ID });
  filter({ ...all, originators: [] });
  // Sections, projects, attachments and accounts: Skein keeps none of them.
  filter({ ...all, sortKey: 'section_position', sectionId: 'no-such-section' }, false);
  filter({ ...all, sectionId: null });
  filter({ ...all, projectId: 'no-such-project' });
  filter({ ...all, attachedToThreadId: facts[0]?.thread.id ?? UNKNOWN_ID });
  filter({ ...all, includeAttachedThreads: true });
  filter({ ...all, currentAccountOnly: true });
  // Seeded combinations of several filters at once.
  for (let i = 0; i < 8; i += 1) {
    const params: Params = {};
    if (dice.chance(0.6)) params.modelProviders = dice.pick([[], providers]);
    if (dice.chance(0.4)) params.archived = dice.pick([true, false]);
    if (dice.chance(0.5) && cwds.length > 0) params.cwd = dice.pick(cwds);
    if (dice.chance(0.4))
      params.sourceKinds = dice.pick([['cli', 'vscode'], ['subAgent'], ['vscode']]);
    if (dice.chance(0.5) && words.length > 0) params.searchTerm = dice.pick(words.slice(0, 6));
    filter(params);
  }

  // --- thread/list errors and bad params.
  const badList: Params[] = [
    { cursor: 'garbage' },
    { originators: ['someone'] },
    { excludedThreadIds: ['bad'] },
    { sortKey: 'section_position' },
    { parentThreadId: UNKNOWN_ID, ancestorThreadId: UNKNOWN_ID },
    { parentThreadId: 'bad' },
    { limit: -1 },
    { limit: 'x' },
    { sortKey: 'bogus' },
    { sortDirection: 'up' },
    { archived: 'yes' },
    { cwd: 5 },
    { sourceKinds: ['nope'] },
  ];
  for (const params of badList) {
    add({
      label: `list ${paramText(params)}`,
      kind: 'list-bad',
      role: null,
      method: 'thread/list',
      params,
    });
  }

  // --- thread/read, with and without turns, of every thread.
  for (const f of facts) {
    const id = f.thread.id;
    add({
      label: `read ${f.handle}`,
      kind: 'read',
      role: f.role,
      method: 'thread/read',
      params: { threadId: id },
    });
    add({
      label: `read ${f.handle} includeTurns`,
      kind: 'read-turns',
      role: f.role,
      method: 'thread/read',
      params: { threadId: id, includeTurns: true },
    });
  }
  const badRead: [string, string, Template | undefined][] = [
    ['unknown', 'unknown', { threadId: UNKNOWN_ID }],
    ['unknown includeTurns', 'unknown', { threadId: UNKNOWN_ID, includeTurns: true }],
    ['bad id', 'invalid', { threadId: 'bad' }],
    ['no threadId', 'none', {}],
    ['no params', 'none', undefined],
  ];
  for (const [what, role, params] of badRead) {
    add({
      label: `read ${what}`,
      kind: 'read-bad',
      role,
      method: 'thread/read',
      ...(params === undefined ? {} : { params }),
    });
  }

  // --- thread/turns/list and thread/items/list, paged both ways.
  for (const f of facts) {
    const threadId = f.thread.id;
    const turns = add({
      label: `turns ${f.handle}`,
      kind: 'turns',
      role: f.role,
      method: 'thread/turns/list',
      params: { threadId },
    });
    const desc = add({
      label: `turns ${f.handle} limit=1`,
      kind: 'turns-page',
      role: f.role,
      method: 'thread/turns/list',
      params: { threadId, limit: 1 },
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    add({
      label: `turns ${f.handle} limit=1 ← back`,
      kind: 'turns-back',
      role: f.role,
      method: 'thread/turns/list',
      params: {
        threadId,
        limit: 1,
        sortDirection: 'asc',
        cursor: ref(`${desc.label} #last`, 'result.backwardsCursor'),
      },
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    const itemsView = dice.pick(['full', 'notLoaded', 'summary']);
    const sortDirection = dice.pick(['asc', 'desc']);
    add({
      label: `turns ${f.handle} ${itemsView} ${sortDirection} limit=2`,
      kind: 'turns-view',
      role: f.role,
      method: 'thread/turns/list',
      params: { threadId, itemsView, sortDirection, limit: 2 },
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    add({
      label: `items ${f.handle}`,
      kind: 'items',
      role: f.role,
      method: 'thread/items/list',
      params: { threadId },
    });
    const itemsAsc = add({
      label: `items ${f.handle} limit=2`,
      kind: 'items-page',
      role: f.role,
      method: 'thread/items/list',
      params: { threadId, limit: 2 },
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    add({
      label: `items ${f.handle} limit=2 ← back`,
      kind: 'items-back',
      role: f.role,
      method: 'thread/items/list',
      params: {
        threadId,
        limit: 2,
        sortDirection: 'desc',
        cursor: ref(`${itemsAsc.label} #last`, 'result.backwardsCursor'),
      },
      pages: { cursorPath: 'result.nextCursor', max: MAX_PAGES },
    });
    add({
      label: `items ${f.handle} turnId=first`,
      kind: 'items-turn',
      role: f.role,
      method: 'thread/items/list',
      params: { threadId, turnId: ref(turns.label, 'result.data[0].id') },
    });
  }
  const anyThread = facts[0]?.thread.id ?? UNKNOWN_ID;
  const badHistory: [string, string, string, Template][] = [
    ['turns', 'unknown', 'thread/turns/list', { threadId: UNKNOWN_ID }],
    ['turns', 'invalid', 'thread/turns/list', { threadId: 'bad' }],
    ['turns', 'plain', 'thread/turns/list', { threadId: anyThread, cursor: 'garbage' }],
    ['turns', 'plain', 'thread/turns/list', { threadId: anyThread, itemsView: 'bogus' }],
    ['items', 'unknown', 'thread/items/list', { threadId: UNKNOWN_ID }],
    ['items', 'plain', 'thread/items/list', { threadId: anyThread, cursor: 'garbage' }],
    ['items', 'plain', 'thread/items/list', { threadId: anyThread, turnId: UNKNOWN_ID }],
  ];
  for (const [what, role, method, params] of badHistory) {
    add({
      label: `${what} ${role} ${paramText(params as Params)}`,
      kind: `${what}-bad`,
      role,
      method,
      params,
    });
  }

  // --- mutation episodes, each followed by reads.
  const episodes = new Episodes(add, dice, facts, all);
  episodes.run();
  add({
    label: 'final loaded',
    kind: 'loaded-list',
    role: null,
    method: 'thread/loaded/list',
    params: {},
  });
  listChain('list-final', { ...all, limit: 100 }, false);
  listChain('list-final', { ...all, archived: true, limit: 100 }, false);
  return steps;
}

/**
 * The mutation half: seeded targets drawn without reuse (a thread deleted or archived by one
 * episode is not the target of another), episodes in a seeded order.
 */
class Episodes {
  readonly #taken = new Set<string>();
  #n = 0;

  constructor(
    private readonly add: (step: Step) => Step,
    private readonly dice: Dice,
    private readonly facts: readonly ThreadFacts[],
    private readonly all: Params,
  ) {}

  /** An untaken thread matching `test`, seeded; undefined when none is left. */
  take(test: (f: ThreadFacts) => boolean): ThreadFacts | undefined {
    const pool = this.facts.filter((f) => !this.#taken.has(f.thread.id) && test(f));
    if (pool.length === 0) return undefined;
    const chosen = this.dice.pick(pool);
    this.#taken.add(chosen.thread.id);
    // A tree is handled as a whole: its members are not targets of other episodes.
    for (const c of chosen.children) this.#taken.add(c.id);
    return chosen;
  }

  /** A mutation, then `thread/list` (active, and archived when asked) and `thread/read`. */
  mutate(
    kind: string,
    role: string,
    method: string,
    params: Template | undefined,
    follow: { read?: Template; archived?: boolean; label?: string } = {},
  ): Step {
    this.#n += 1;
    const what =
      follow.label ?? (params === undefined ? '(no params)' : paramText(params as Params));
    const step = this.add({
      label: `m${this.#n} ${method.replace('thread/', '')} ${what}`,
      kind,
      role,
      method,
      ...(params === undefined ? {} : { params }),
    });
    this.add({
      label: `${step.label} → list`,
      kind: `${kind}+list`,
      role,
      method: 'thread/list',
      params: { ...this.all, limit: 100 },
    });
    if (follow.archived) {
      this.add({
        label: `${step.label} → list archived`,
        kind: `${kind}+list`,
        role,
        method: 'thread/list',
        params: { ...this.all, archived: true, limit: 100 },
      });
    }
    if (follow.read !== undefined) {
      this.add({
        label: `${step.label} → read`,
        kind: `${kind}+read`,
        role,
        method: 'thread/read',
        params: { threadId: follow.read },
      });
    }
    return step;
  }

  run(): void {
    const episodes: (() => void)[] = [
      () => this.rename(),
      () => this.metadata(),
      () => this.archiveTree(),
      () => this.archivePlain(),
      () => this.unarchiveArchived(),
      () => this.deleteLeaf(),
      () => this.deleteTree(),
      () => this.resume(),
      () => this.fork(),
      () => this.start(),
      () => this.readState(),
      () => this.badRequests(),
    ];
    for (const episode of this.dice.shuffle(episodes)) episode();
  }

  rename(): void {
    const target = this.take((f) => !f.thread.archived && f.listed);
    if (target === undefined) return;
    const id = target.thread.id;
    const role = target.role;
    const name = this.dice.pick(['  Renamed by diff  ', 'Ünïcode ☕ name', 'x']);
    this.mutate('name-set', role, 'thread/name/set', { threadId: id, name }, { read: id });
    this.mutate(
      'name-set',
      role,
      'thread/name/set',
      { threadId: id, name: 'Second name' },
      { read: id },
    );
    this.mutate('name-bad', role, 'thread/name/set', { threadId: id, name: '   ' }, { read: id });
    const arch = this.facts.find((f) => f.thread.archived);
    if (arch !== undefined) {
      this.mutate(
        'name-set',
        arch.role,
        'thread/name/set',
        { threadId: arch.thread.id, name: 'arch' },
        { read: arch.thread.id, archived: true },
      );
    }
    this.mutate('name-bad', 'unknown', 'thread/name/set', { threadId: UNKNOWN_ID, name: 'x' });
    this.mutate('name-bad', 'invalid', 'thread/name/set', { threadId: 'bad', name: 'x' });
  }

  metadata(): void {
    const target = this.take((f) => !f.thread.archived && f.listed);
    if (target === undefined) return;
    const id = target.thread.id;
    const role = target.role;
    const update = (kind: string, gitInfo: Template | undefined, label: string) =>
      this.mutate(
        kind,
        role,
        'thread/metadata/update',
        gitInfo === undefined ? { threadId: id } : { threadId: id, gitInfo },
        { read: id, label: `${label}` },
      );
    update(
      'meta-update',
      { sha: 'abc123', branch: 'main', originUrl: 'https://x.invalid/y.git' },
      'set all',
    );
    update('meta-update', { branch: ' feature ' }, 'partial branch');
    update('meta-update', { sha: null }, 'clear sha');
    update('meta-update', { sha: null, branch: null, originUrl: null }, 'clear all');
    update('meta-bad', { branch: '' }, 'empty branch');
    update('meta-bad', {}, 'empty gitInfo');
    update('meta-bad', undefined, 'no gitInfo');
    update('meta-bad', null, 'gitInfo null');
    const arch = this.facts.find((f) => f.thread.archived);
    if (arch !== undefined) {
      this.mutate(
        'meta-update',
        arch.role,
        'thread/metadata/update',
        { threadId: arch.thread.id, gitInfo: { branch: 'arch' } },
        { read: arch.thread.id, archived: true },
      );
    }
    this.mutate('meta-bad', 'unknown', 'thread/metadata/update', {
      threadId: UNKNOWN_ID,
      gitInfo: { branch: 'b' },
    });
  }

  archiveTree(): void {
    const parent = this.take((f) => !f.thread.archived && f.children.length > 0);
    if (parent === undefined) return;
    const id = parent.thread.id;
    const child = parent.children[0]?.id ?? id;
    this.mutate(
      'archive',
      parent.role,
      'thread/archive',
      { threadId: id },
      { read: child, archived: true },
    );
    this.mutate(
      'archive',
      parent.role,
      'thread/archive',
      { threadId: id },
      { read: id, label: `again {"threadId":"${id}"}` },
    );
    this.mutate(
      'resume',
      parent.role,
      'thread/resume',
      { threadId: id, excludeTurns: true },
      { read: id },
    );
    this.mutate(
      'fork',
      parent.role,
      'thread/fork',
      { threadId: id, excludeTurns: true },
      { read: id },
    );
    this.mutate(
      'unarchive',
      parent.role,
      'thread/unarchive',
      { threadId: id },
      { read: child, archived: true },
    );
    this.mutate(
      'unarchive',
      parent.role,
      'thread/unarchive',
      { threadId: id },
      { read: id, label: `again {"threadId":"${id}"}` },
    );
  }

  archivePlain(): void {
    const target = this.take((f) => !f.thread.archived && f.children.length === 0 && f.listed);
    if (target === undefined) return;
    const id = target.thread.id;
    this.mutate(
      'archive',
      target.role,
      'thread/archive',
      { threadId: id },
      { read: id, archived: true },
    );
    this.mutate(
      'name-set',
      target.role,
      'thread/name/set',
      { threadId: id, name: 'while archived' },
      { read: id },
    );
    this.mutate(
      'unarchive',
      target.role,
      'thread/unarchive',
      { threadId: id },
      { read: id, archived: true },
    );
    this.mutate('archive-bad', 'unknown', 'thread/archive', { threadId: UNKNOWN_ID });
    this.mutate('archive-bad', 'invalid', 'thread/archive', { threadId: 'bad' });
    this.mutate('archive-bad', 'none', 'thread/archive', undefined);
  }

  unarchiveArchived(): void {
    const target = this.take((f) => f.thread.archived);
    if (target !== undefined) {
      const id = target.thread.id;
      this.mutate(
        'unarchive',
        target.role,
        'thread/unarchive',
        { threadId: id },
        { read: id, archived: true },
      );
    }
    const active = this.facts.find((f) => !f.thread.archived && !this.#taken.has(f.thread.id));
    if (active !== undefined) {
      this.mutate('unarchive-bad', active.role, 'thread/unarchive', { threadId: active.thread.id });
    }
    this.mutate('unarchive-bad', 'unknown', 'thread/unarchive', { threadId: UNKNOWN_ID });
  }

  deleteLeaf(): void {
    const target = this.take(
      (f) => f.children.length === 0 && f.forks.length === 0 && f.thread.parentThreadId === null,
    );
    if (target === undefined) return;
    const id = target.thread.id;
    this.mutate(
      'delete',
      target.role,
      'thread/delete',
      { threadId: id },
      { read: id, archived: target.thread.archived },
    );
    this.mutate(
      'delete',
      target.role,
      'thread/delete',
      { threadId: id },
      { label: `again {"threadId":"${id}"}` },
    );
    this.mutate('delete-bad', 'invalid', 'thread/delete', { threadId: 'bad' });
  }

  deleteTree(): void {
    const source = this.take((f) => f.forks.length > 0);
    if (source !== undefined) {
      this.mutate(
        'delete',
        source.role,
        'thread/delete',
        { threadId: source.thread.id },
        { read: source.thread.id },
      );
    }
    const parent = this.take((f) => f.children.length > 0);
    if (parent !== undefined) {
      const child = parent.children[0]?.id ?? parent.thread.id;
      this.mutate(
        'delete',
        parent.role,
        'thread/delete',
        { threadId: parent.thread.id },
        { read: child, archived: true },
      );
    }
  }

  resume(): void {
    const target = this.take((f) => !f.thread.archived && f.listed);
    if (target === undefined) return;
    const id = target.thread.id;
    const role = target.role;
    const exclude = this.dice.chance(0.5);
    this.mutate(
      'resume',
      role,
      'thread/resume',
      { threadId: id, excludeTurns: exclude },
      { read: id },
    );
    this.add({
      label: `loaded after resume ${id}`,
      kind: 'loaded-list',
      role,
      method: 'thread/loaded/list',
      params: {},
    });
    this.mutate(
      'resume',
      role,
      'thread/resume',
      { threadId: id, excludeTurns: !exclude },
      { read: id, label: `again {"threadId":"${id}"}` },
    );
    this.mutate(
      'name-set',
      role,
      'thread/name/set',
      { threadId: id, name: 'Live rename' },
      { read: id },
    );
    this.mutate(
      'meta-update',
      role,
      'thread/metadata/update',
      { threadId: id, gitInfo: { branch: 'live' } },
      { read: id },
    );
    this.mutate(
      'inject',
      role,
      'thread/inject_items',
      {
        threadId: id,
        items: [
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'injected' }] },
        ],
      },
      { read: id },
    );
    this.mutate('inject-bad', role, 'thread/inject_items', { threadId: id, items: [] });
    this.mutate('inject-bad', role, 'thread/inject_items', { threadId: id, items: [{ bogus: 1 }] });
    this.mutate('unsubscribe', role, 'thread/unsubscribe', { threadId: id }, { read: id });
    this.mutate(
      'unsubscribe',
      role,
      'thread/unsubscribe',
      { threadId: id },
      { read: id, label: `again {"threadId":"${id}"}` },
    );
    this.add({
      label: `loaded after unsubscribe ${id}`,
      kind: 'loaded-list',
      role,
      method: 'thread/loaded/list',
      params: {},
    });
    // Archiving unloads it now, rather than at the idle-unload timer during a later step.
    this.mutate('archive', role, 'thread/archive', { threadId: id }, { read: id, archived: true });
    this.mutate('unsubscribe', 'unknown', 'thread/unsubscribe', { threadId: UNKNOWN_ID });
    this.mutate('resume-bad', 'unknown', 'thread/resume', {
      threadId: UNKNOWN_ID,
      excludeTurns: true,
    });
    this.mutate('resume-bad', 'invalid', 'thread/resume', { threadId: 'bad' });
    const arch = this.facts.find((f) => f.thread.archived);
    if (arch !== undefined) {
      this.mutate('resume-bad', arch.role, 'thread/resume', {
        threadId: arch.thread.id,
        excludeTurns: true,
      });
    }
  }

  fork(): void {
    const source = this.take((f) => !f.thread.archived && f.listed);
    if (source === undefined) return;
    const id = source.thread.id;
    const role = source.role;
    const forkRead = (label: string) => ref(label, 'result.thread.id');
    const first = this.mutate('fork', role, 'thread/fork', { threadId: id, excludeTurns: true });
    this.add({
      label: `${first.label} → read fork`,
      kind: 'fork+read',
      role: 'fresh',
      method: 'thread/read',
      params: { threadId: forkRead(first.label) },
    });
    this.add({
      label: `${first.label} → turns of fork`,
      kind: 'fork+turns',
      role: 'fresh',
      method: 'thread/turns/list',
      params: { threadId: forkRead(first.label) },
    });
    const full = this.mutate(
      'fork',
      role,
      'thread/fork',
      { threadId: id },
      { label: `full {"threadId":"${id}"}` },
    );
    this.add({
      label: `${full.label} → read fork`,
      kind: 'fork+read',
      role: 'fresh',
      method: 'thread/read',
      params: { threadId: forkRead(full.label), includeTurns: true },
    });
    const turns = this.add({
      label: `fork source turns ${id}`,
      kind: 'turns',
      role,
      method: 'thread/turns/list',
      params: { threadId: id, sortDirection: 'asc' },
    });
    const cut = this.mutate(
      'fork',
      role,
      'thread/fork',
      { threadId: id, excludeTurns: true, lastTurnId: ref(turns.label, 'result.data[0].id') },
      { label: `lastTurnId=first {"threadId":"${id}"}` },
    );
    this.add({
      label: `${cut.label} → turns of fork`,
      kind: 'fork+turns',
      role: 'fresh',
      method: 'thread/turns/list',
      params: { threadId: forkRead(cut.label) },
    });
    this.mutate('fork-bad', role, 'thread/fork', {
      threadId: id,
      excludeTurns: true,
      lastTurnId: 'nope',
    });
    const eph = this.mutate(
      'fork',
      role,
      'thread/fork',
      { threadId: id, ephemeral: true, excludeTurns: true },
      { label: `ephemeral {"threadId":"${id}"}` },
    );
    this.add({
      label: `${eph.label} → read fork`,
      kind: 'fork+read',
      role: 'ephemeral',
      method: 'thread/read',
      params: { threadId: forkRead(eph.label) },
    });
    this.mutate('fork-bad', role, 'thread/fork', { threadId: id, ephemeral: true });
    this.mutate('unsubscribe', 'fresh', 'thread/unsubscribe', { threadId: forkRead(first.label) });
    this.mutate('delete', 'fresh', 'thread/delete', { threadId: forkRead(first.label) });
    this.mutate('fork-bad', 'unknown', 'thread/fork', { threadId: UNKNOWN_ID, excludeTurns: true });
    const arch = this.facts.find((f) => f.thread.archived);
    if (arch !== undefined) {
      this.mutate('fork-bad', arch.role, 'thread/fork', {
        threadId: arch.thread.id,
        excludeTurns: true,
      });
    }
  }

  start(): void {
    const fresh = (label: string) => ref(label, 'result.thread.id');
    const started = this.mutate('start', 'fresh', 'thread/start', { cwd: 'a' });
    const read = (what: string, kind: string, method: string, params: Template) =>
      this.add({ label: `${started.label} → ${what}`, kind, role: 'fresh', method, params });
    read('read', 'start+read', 'thread/read', { threadId: fresh(started.label) });
    read('read includeTurns', 'start+read', 'thread/read', {
      threadId: fresh(started.label),
      includeTurns: true,
    });
    read('turns', 'start+turns', 'thread/turns/list', { threadId: fresh(started.label) });
    read('items', 'start+turns', 'thread/items/list', { threadId: fresh(started.label) });
    read('loaded', 'loaded-list', 'thread/loaded/list', {});
    this.mutate('resume', 'fresh', 'thread/resume', {
      threadId: fresh(started.label),
      excludeTurns: true,
    });
    this.mutate('fork-bad', 'fresh', 'thread/fork', {
      threadId: fresh(started.label),
      excludeTurns: true,
    });
    this.mutate(
      'name-set',
      'fresh',
      'thread/name/set',
      { threadId: fresh(started.label), name: 'Pristine' },
      { read: fresh(started.label) },
    );
    this.mutate(
      'meta-update',
      'fresh',
      'thread/metadata/update',
      { threadId: fresh(started.label), gitInfo: { branch: 'b' } },
      { read: fresh(started.label) },
    );
    this.mutate('unsubscribe', 'fresh', 'thread/unsubscribe', { threadId: fresh(started.label) });
    this.mutate(
      'delete',
      'fresh',
      'thread/delete',
      { threadId: fresh(started.label) },
      { read: fresh(started.label) },
    );

    const eph = this.mutate('start', 'ephemeral', 'thread/start', { ephemeral: true });
    const ephId = fresh(eph.label);
    this.add({
      label: `${eph.label} → read includeTurns`,
      kind: 'start+read',
      role: 'ephemeral',
      method: 'thread/read',
      params: { threadId: ephId, includeTurns: true },
    });
    this.add({
      label: `${eph.label} → turns`,
      kind: 'start+turns',
      role: 'ephemeral',
      method: 'thread/turns/list',
      params: { threadId: ephId },
    });
    this.mutate('name-bad', 'ephemeral', 'thread/name/set', { threadId: ephId, name: 'eph' });
    this.mutate('meta-bad', 'ephemeral', 'thread/metadata/update', {
      threadId: ephId,
      gitInfo: { branch: 'b' },
    });
    this.mutate('archive-bad', 'ephemeral', 'thread/archive', { threadId: ephId });
    this.mutate('delete-bad', 'ephemeral', 'thread/delete', { threadId: ephId });

    const plain = this.mutate('start', 'fresh', 'thread/start', {});
    this.mutate(
      'archive',
      'fresh',
      'thread/archive',
      { threadId: fresh(plain.label) },
      { archived: true },
    );
    this.mutate('start-bad', 'none', 'thread/start', { historyMode: 'bogus' });
    this.mutate('start-bad', 'none', 'thread/start', { sandbox: 'read-only', permissions: 'x' });
  }

  readState(): void {
    const target = this.take((f) => !f.thread.archived && f.listed);
    if (target === undefined) return;
    const id = target.thread.id;
    const role = target.role;
    const before = this.add({
      label: `readState read ${id}`,
      kind: 'read',
      role,
      method: 'thread/read',
      params: { threadId: id },
    });
    const revision = ref(before.label, 'result.readState.revision');
    const marked = this.mutate(
      'read-state',
      role,
      'thread/readState/update',
      { threadId: id, expectedRevision: revision, operation: { type: 'read' } },
      { read: id, label: `read ${id}` },
    );
    this.mutate(
      'read-state-bad',
      role,
      'thread/readState/update',
      { threadId: id, expectedRevision: revision, operation: { type: 'unread' } },
      { read: id, label: `stale ${id}` },
    );
    this.mutate(
      'read-state',
      role,
      'thread/readState/update',
      {
        threadId: id,
        expectedRevision: ref(marked.label, 'result.readState.revision'),
        operation: { type: 'unread' },
      },
      { read: id, label: `unread ${id}` },
    );
    this.mutate('read-state-bad', role, 'thread/readState/update', {
      threadId: id,
      expectedRevision: 'x',
      operation: { type: 'bogus' },
    });
    this.mutate('read-state-bad', 'unknown', 'thread/readState/update', {
      threadId: UNKNOWN_ID,
      expectedRevision: 'x',
      operation: { type: 'read' },
    });
  }

  badRequests(): void {
    this.add({
      label: 'unknown method',
      kind: 'bad-method',
      role: null,
      method: 'thread/bogus',
      params: {},
    });
    this.add({
      label: 'rollback (gone in 0.169)',
      kind: 'bad-method',
      role: null,
      method: 'thread/rollback',
      params: { threadId: UNKNOWN_ID, numTurns: 1 },
    });
  }
}
