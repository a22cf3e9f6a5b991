/**
 * Runs a scenario against the real Codex binaries in a fresh temporary home and writes the
 * recorded home (payload, MANIFEST.json, transcript.jsonl) to an output folder.
 *
 * The temporary root is `/tmp/` plus four characters: exactly as long as the placeholder
 * `/home/dev`, so replacing one with the other keeps every byte offset Codex stored (the
 * history DB indexes rollout lines by byte offset).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli } from '../codex-cli.js';
import { AppServerSession, type JsonObject } from './app-server-session.js';
import { PLACEHOLDER_ROOT, writeRecordedHome } from './home-writer.js';
import { buildManifest, type RecordedManifest } from './manifest.js';
import { MockModelServer } from './mock-model.js';
import type { CensusEntry, RecordingState, SkippedStep } from './recording-state.js';
import {
  MODEL,
  PROVIDERS,
  type Run,
  type Scenario,
  type SpawnSpec,
  type Step,
  stepNeeds,
  versionFeatures,
} from './scenario-types.js';
import {
  gitInfoOf,
  itemText,
  ThreadBook,
  type ThreadRecord,
  type TurnRecord,
} from './thread-book.js';

const TURN_TIMEOUT_MS = 60_000;
const SPAWN_TIMEOUT_MS = 60_000;

export type {
  CensusEntry,
  GitProject,
  RecordingState,
  SkippedStep,
  TranscriptEntry,
} from './recording-state.js';

export interface RecordOptions {
  scenario: Scenario;
  /** The folder that receives the home (`…/<name>/home-a`). Replaced if it exists. */
  outDir: string;
  log?: (line: string) => void;
  /** Keep the temporary root for inspection instead of removing it. */
  keepTemp?: boolean;
}

export interface RecordResult {
  scenario: string;
  outDir: string;
  codexVersions: string[];
  threads: number;
  persistedThreads: number;
  files: number;
  bytes: number;
  transcriptMessages: number;
  modelRequests: number;
  durationMs: number;
  checkProblems: string[];
  skippedSteps: SkippedStep[];
  tempRoot?: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function asObject(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' ? (value as JsonObject) : {};
}

/** Creates `/tmp/xxxx` (same length as the placeholder root); retries on collisions. */
function makeRoot(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const bytes = randomBytes(4);
    const name = Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
    const root = `/tmp/${name}`;
    if (root.length !== PLACEHOLDER_ROOT.length) continue;
    try {
      mkdirSync(root, { mode: 0o700 });
      return root;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error('recorder: could not create a free /tmp/xxxx root');
}

function gitEnv(root: string): NodeJS.ProcessEnv {
  const when = '2026-01-05T09:00:00Z';
  return {
    PATH: process.env.PATH,
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Skein Recorder',
    GIT_AUTHOR_EMAIL: 'recorder@example.invalid',
    GIT_COMMITTER_NAME: 'Skein Recorder',
    GIT_COMMITTER_EMAIL: 'recorder@example.invalid',
    GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_DATE: when,
  };
}

/** A git repository with one commit whose sha is the same on every run (fixed dates, names). */
function makeGitProject(
  root: string,
  dir: string,
): RecordingState['git'] extends infer G ? Omit<G, 'project'> : never {
  const env = gitEnv(root);
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), '# gamma\n\nA project the recorder keeps under git.\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'Initial gamma commit');
  const originUrl = 'https://example.invalid/acme/gamma.git';
  git('remote', 'add', 'origin', originUrl);
  return { head: git('rev-parse', 'HEAD').trim(), branch: 'main', originUrl };
}

function configToml(baseUrl: (provider: string) => string): string {
  const lines = [
    `model = "${MODEL}"`,
    `model_provider = "${PROVIDERS[0]}"`,
    'approval_policy = "never"',
    'sandbox_mode = "read-only"',
    '',
    '[agents]',
    '# Lets a sub-agent spawn its own (the scenario has a grandchild).',
    'max_depth = 2',
  ];
  for (const provider of PROVIDERS) {
    lines.push(
      '',
      `[model_providers.${provider}]`,
      `name = "${provider}"`,
      `base_url = "${baseUrl(provider)}"`,
      'wire_api = "responses"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      'stream_idle_timeout_ms = 30000',
    );
  }
  return `${lines.join('\n')}\n`;
}

function describeStep(step: Step): string {
  switch (step.do) {
    case 'start': {
      const extras = Object.entries(step)
        .filter(([name]) => !['do', 'key', 'project'].includes(name))
        .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
      return `thread/start ${step.key} in ${step.project}${extras.length ? ` (${extras.join(', ')})` : ''}`;
    }
    case 'turn':
      return `turn/start ${step.key} ${JSON.stringify(step.text)}`;
    case 'turns':
      return `${step.texts.length} × turn/start ${step.key}`;
    case 'name':
      return `thread/name/set ${step.key} ${JSON.stringify(step.name)}`;
    case 'git':
      return `thread/metadata/update ${step.key} gitInfo ${JSON.stringify(step.gitInfo)}`;
    case 'fork':
      return `thread/fork ${step.key} from ${step.from}${step.afterTurn ? ` after turn ${step.afterTurn}` : ''}`;
    case 'readState':
      return `thread/readState/update ${step.key} ${step.read ? 'read' : 'unread'}`;
    case 'inject':
      return `thread/inject_items ${step.key} ${JSON.stringify(step.text)}`;
    case 'pause':
      return `pause ${step.ms} ms`;
    default:
      return `thread/${step.do} ${step.key}`;
  }
}

export class HomeRecorder {
  readonly state: RecordingState;
  #mock: MockModelServer | undefined;
  #t0 = Date.now();
  #log: (line: string) => void;
  #cursor = new Map<AppServerSession, number>();

  constructor(scenario: Scenario, root: string, options: Pick<RecordOptions, 'log'>) {
    this.#log = options.log ?? (() => {});
    this.state = {
      scenario,
      root,
      codexHome: join(root, '.codex'),
      projectsDir: join(root, 'projects'),
      git: { project: scenario.gitProject, head: '', branch: '', originUrl: '' },
      book: new ThreadBook(),
      transcript: [],
      modelRequests: [],
      census: new Map(),
      censusVersion: '',
      skippedSteps: [],
      problems: [],
      apiDifferences: [],
      configToml: '',
      startedAt: new Date(),
    };
  }

  #record(label: string, dir: string, msg: unknown): void {
    this.state.transcript.push({ t: Date.now() - this.#t0, label, dir, msg });
  }

  #projectDir(project: string): string {
    const dir = this.state.scenario.projects[project];
    if (!dir) throw new Error(`scenario uses unknown project ${project}`);
    return join(this.state.projectsDir, dir);
  }

  #env(tz: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.state.root,
      CODEX_HOME: this.state.codexHome,
      TZ: tz,
      LANG: 'C.UTF-8',
      GIT_CONFIG_NOSYSTEM: '1',
    };
  }

  async prepare(): Promise<void> {
    const { scenario, codexHome } = this.state;
    mkdirSync(codexHome, { recursive: true });
    for (const project of Object.keys(scenario.projects)) {
      mkdirSync(this.#projectDir(project), { recursive: true });
    }
    this.state.git = {
      project: scenario.gitProject,
      ...makeGitProject(this.state.root, this.#projectDir(scenario.gitProject)),
    };
    this.#mock = await MockModelServer.start({
      onRequest: (request) => {
        this.state.modelRequests.push(request);
        this.#record('mock-model', 'model-request', request);
      },
    });
    const mock = this.#mock;
    this.state.configToml = configToml((provider) => mock.baseUrl(provider));
    writeFileSync(join(codexHome, 'config.toml'), this.state.configToml);
  }

  async run(): Promise<void> {
    for (const run of this.state.scenario.runs) {
      this.#log(`${run.label}: ${run.kind} codex ${run.codex} (TZ=${run.tz})`);
      if (run.kind === 'app-server') {
        await this.#runAppServer(run);
      } else {
        await this.#runExternal(run);
      }
    }
  }

  async stop(): Promise<void> {
    const mock = this.#mock;
    if (!mock) return;
    this.#mock = undefined;
    await mock.close();
  }

  // ---- app-server runs ------------------------------------------------------------------

  async #runAppServer(run: Extract<Run, { kind: 'app-server' }>): Promise<void> {
    const cli = ensureCodexCli(run.codex);
    const session = new AppServerSession({
      binary: cli.binary,
      cwd: this.state.projectsDir,
      env: this.#env(run.tz),
      transcript: (dir, msg) => this.#record(run.label, dir, msg),
    });
    this.#cursor.set(session, 0);
    try {
      await session.initialize(run.clientName, true);
      const features = versionFeatures(run.codex);
      for (const step of run.steps) {
        const needs = stepNeeds(step);
        if (needs && !features.has(needs)) {
          this.#skip(run.label, step, `codex ${run.codex} has no ${needs}`);
          continue;
        }
        const missing = this.#missingThread(step);
        if (missing) {
          this.#skip(run.label, step, `thread ${missing} was not created`);
          continue;
        }
        await this.#step(session, run, step);
        this.#drain(session, run);
      }
      await this.#settle();
      this.#drain(session, run);
    } finally {
      const code = await session.close();
      this.#record(run.label, 'process', { event: 'exit', code });
    }
    this.#drain(session, run);
  }

  /** A thread the step needs that an earlier, skipped step should have created. */
  #missingThread(step: Step): string | undefined {
    const book = this.state.book;
    if (step.do === 'pause' || step.do === 'start') return undefined;
    if (step.do === 'fork') return book.has(step.from) ? undefined : step.from;
    return book.has(step.key) ? undefined : step.key;
  }

  #skip(label: string, step: Step, reason: string): void {
    const entry = { run: label, step: describeStep(step), reason };
    this.state.skippedSteps.push(entry);
    this.#log(`  skipped: ${entry.step} (${reason})`);
    if ('key' in step && this.state.book.has(step.key)) {
      this.state.book.get(step.key).actions.push(`${label}: skipped ${entry.step}: ${reason}`);
    }
  }

  /** Folds new notifications into the book and keys the sub-agents they announce. */
  #drain(session: AppServerSession, run: Extract<Run, { kind: 'app-server' }>): void {
    const book = this.state.book;
    let cursor = this.#cursor.get(session) ?? 0;
    for (; cursor < session.notifications.length; cursor += 1) {
      const edges = book.absorb(session.notifications[cursor]!, run.label);
      for (const edge of edges) {
        const parent = book.byId(edge.sender);
        if (!parent) continue;
        for (const childId of edge.receivers) {
          if (book.byId(childId)) continue;
          const spec = parent.pendingSpawns.shift();
          const key = spec?.key ?? `${parent.key}c${book.threads.length}`;
          if (!spec) this.state.problems.push(`unexpected sub-agent ${childId} of ${parent.key}`);
          book.add({
            ...this.#blank(key, childId, parent.project, parent.cwd, run),
            source: 'subAgentThreadSpawn',
            modelProvider: parent.modelProvider,
            parentKey: parent.key,
            parentThreadId: parent.id,
            persisted: true,
            actions: [`${run.label}: spawned by ${parent.key} via spawn_agent`],
            pendingSpawns: spec?.spawns ? [...spec.spawns] : [],
          });
        }
      }
    }
    this.#cursor.set(session, cursor);
  }

  #blank(
    key: string,
    id: string,
    project: string,
    cwd: string,
    run: { codex: string; label: string },
  ): ThreadRecord {
    return {
      key,
      id,
      project,
      cwd,
      name: null,
      archived: false,
      ephemeral: false,
      persisted: false,
      deleted: false,
      historyMode: null,
      source: null,
      modelProvider: null,
      threadSource: null,
      preview: null,
      inherited: [],
      forkedFromKey: null,
      forkedFromId: null,
      parentKey: null,
      parentThreadId: null,
      agentNickname: null,
      gitInfo: null,
      readState: null,
      actions: [],
      createdBy: run.codex,
      createdIn: run.label,
      touched: false,
      pendingSpawns: [],
    };
  }

  /** Absorbs a thread object from an answer (start, fork, resume, metadata update). */
  #absorbThread(record: ThreadRecord, thread: JsonObject): void {
    if (typeof thread.historyMode === 'string') record.historyMode = thread.historyMode;
    if (typeof thread.modelProvider === 'string') record.modelProvider = thread.modelProvider;
    if (thread.source !== undefined) record.source = thread.source;
    if (typeof thread.threadSource === 'string') record.threadSource = thread.threadSource;
    if ('gitInfo' in thread) record.gitInfo = gitInfoOf(thread.gitInfo);
    if ('name' in thread) record.name = typeof thread.name === 'string' ? thread.name : null;
  }

  async #step(
    session: AppServerSession,
    run: Extract<Run, { kind: 'app-server' }>,
    step: Step,
  ): Promise<void> {
    const book = this.state.book;
    const label = run.label;
    const action = `${label}: ${describeStep(step)}`;
    if (step.do !== 'pause') this.#log(`  ${describeStep(step)}`);
    switch (step.do) {
      case 'pause':
        await sleep(step.ms);
        return;
      case 'start': {
        const features = versionFeatures(run.codex);
        const params: JsonObject = { cwd: this.#projectDir(step.project) };
        if (step.ephemeral) params.ephemeral = true;
        if (step.modelProvider) params.modelProvider = step.modelProvider;
        if (step.threadSource) params.threadSource = step.threadSource;
        if (step.historyMode && features.has('historyMode')) params.historyMode = step.historyMode;
        const answer = await session.request('thread/start', params);
        if (!answer.ok) {
          this.#skip(label, step, `thread/start failed: ${answer.error.message}`);
          return;
        }
        const thread = asObject(answer.result.thread);
        const record = book.add(
          this.#blank(step.key, String(thread.id), step.project, String(params.cwd), run),
        );
        record.ephemeral = thread.ephemeral === true;
        this.#absorbThread(record, thread);
        record.actions.push(action);
        return;
      }
      case 'turns':
        for (const text of step.texts) {
          await this.#turn(session, run, step.key, text, []);
          this.#drain(session, run);
        }
        return;
      case 'turn':
        await this.#turn(session, run, step.key, step.text, step.spawns ?? []);
        return;
      case 'name': {
        const record = book.get(step.key);
        const answer = await session.request('thread/name/set', {
          threadId: record.id,
          name: step.name,
        });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        await this.#barrier(session);
        record.name = step.name.trim();
        this.#touch(record);
        record.actions.push(action);
        return;
      }
      case 'git': {
        const record = book.get(step.key);
        const answer = await session.request('thread/metadata/update', {
          threadId: record.id,
          gitInfo: step.gitInfo,
        });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        record.gitInfo = gitInfoOf(asObject(answer.result.thread).gitInfo);
        this.#touch(record);
        record.actions.push(action);
        return;
      }
      case 'archive':
      case 'unarchive':
      case 'delete': {
        const record = book.get(step.key);
        const answer = await session.request(`thread/${step.do}`, { threadId: record.id });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        // Cascaded threads are announced by notifications after the answer.
        await this.#barrier(session);
        record.actions.push(action);
        return;
      }
      case 'resume': {
        const record = book.get(step.key);
        const answer = await session.request('thread/resume', {
          threadId: record.id,
          excludeTurns: true,
        });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        this.#absorbThread(record, asObject(answer.result.thread));
        record.actions.push(action);
        return;
      }
      case 'inject': {
        const record = book.get(step.key);
        const answer = await session.request('thread/inject_items', {
          threadId: record.id,
          items: [
            { type: 'message', role: 'user', content: [{ type: 'input_text', text: step.text }] },
          ],
        });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        this.#touch(record);
        record.actions.push(action);
        return;
      }
      case 'readState': {
        const record = book.get(step.key);
        const read = await session.request('thread/read', { threadId: record.id });
        if (!read.ok) return this.#refused(record, action, read.error.message);
        const current = asObject(read.result.readState);
        const revision =
          typeof current.revision === 'string' ? current.revision : `initial:${record.id}`;
        const answer = await session.request('thread/readState/update', {
          threadId: record.id,
          operation: { type: step.read ? 'read' : 'unread' },
          expectedRevision: revision,
        });
        if (!answer.ok) return this.#refused(record, action, answer.error.message);
        record.readState = answer.result.readState ?? null;
        record.actions.push(action);
        return;
      }
      case 'fork': {
        const source = book.get(step.from);
        const params: JsonObject = { threadId: source.id, excludeTurns: true };
        const sourceTurns = book.allTurns(source);
        if (step.afterTurn !== undefined) {
          const turn = sourceTurns[step.afterTurn - 1];
          if (!turn) throw new Error(`${step.from} has no turn ${step.afterTurn} to fork after`);
          params.lastTurnId = turn.id;
        }
        const answer = await session.request('thread/fork', params);
        if (!answer.ok) {
          this.#skip(label, step, `thread/fork failed: ${answer.error.message}`);
          return;
        }
        const thread = asObject(answer.result.thread);
        const record = book.add(
          this.#blank(step.key, String(thread.id), source.project, source.cwd, run),
        );
        this.#absorbThread(record, thread);
        record.forkedFromKey = source.key;
        record.forkedFromId = typeof thread.forkedFromId === 'string' ? thread.forkedFromId : null;
        record.preview = typeof thread.preview === 'string' ? thread.preview : null;
        record.inherited = (
          step.afterTurn === undefined ? sourceTurns : sourceTurns.slice(0, step.afterTurn)
        ).map((turn) => ({ ...turn }));
        // Durable forks are written at once.
        record.persisted = thread.ephemeral !== true;
        record.actions.push(action);
        return;
      }
    }
  }

  /** A name, git or inject write materializes a pristine durable thread (spec §4). */
  #touch(record: ThreadRecord): void {
    record.touched = true;
    if (!record.ephemeral) record.persisted = true;
  }

  /**
   * Reads a thread back after Codex first wrote it: git info is captured from the cwd only
   * then, and a sub-agent's history mode is its own (a legacy parent can have a paginated child).
   */
  async #refresh(session: AppServerSession, record: ThreadRecord): Promise<void> {
    const answer = await session.request('thread/read', { threadId: record.id });
    if (!answer.ok) {
      this.state.problems.push(
        `${record.key}: thread/read after first write: ${answer.error.message}`,
      );
      return;
    }
    const thread = asObject(answer.result.thread);
    this.#absorbThread(record, thread);
    if (typeof thread.agentNickname === 'string') record.agentNickname = thread.agentNickname;
  }

  #refused(record: ThreadRecord, action: string, message: string): void {
    record.actions.push(`${action} → refused: ${message}`);
    this.state.skippedSteps.push({ run: action.split(':')[0]!, step: action, reason: message });
    this.#log(`  refused: ${message}`);
  }

  /** A cheap request whose answer comes after the notifications of the previous one. */
  async #barrier(session: AppServerSession): Promise<void> {
    await session.request('thread/loaded/list', {});
  }

  async #turn(
    session: AppServerSession,
    run: Extract<Run, { kind: 'app-server' }>,
    key: string,
    text: string,
    spawns: readonly SpawnSpec[],
  ): Promise<void> {
    const book = this.state.book;
    const record = book.get(key);
    record.pendingSpawns.push(...spawns);
    const from = session.notifications.length;
    const started = await session.call('turn/start', {
      threadId: record.id,
      input: [{ type: 'text', text, text_elements: [] }],
    });
    const turnId = String(asObject(started.turn).id);
    const first = book.ownTurns(record.id).length === 0;
    const done = await session.waitForNotification(
      (n) =>
        n.method === 'turn/completed' &&
        n.params.threadId === record.id &&
        asObject(n.params.turn).id === turnId,
      { fromIndex: from, timeoutMs: TURN_TIMEOUT_MS, what: `turn/completed of ${key}` },
    );
    const status = asObject(done.params.turn).status;
    if (status !== 'completed') throw new Error(`turn of ${key} ended ${String(status)}`);
    if (!record.ephemeral) record.persisted = true;
    record.actions.push(`${run.label}: turn/start ${JSON.stringify(text)}`);
    if (first && !record.ephemeral) await this.#refresh(session, record);
    if (spawns.length > 0) {
      const children = await this.#awaitSpawns(session, run, spawns);
      for (const child of children) await this.#refresh(session, child);
    }
    this.#drain(session, run);
  }

  /** Waits until every expected sub-agent (recursively) exists and finished its first turn. */
  async #awaitSpawns(
    session: AppServerSession,
    run: Extract<Run, { kind: 'app-server' }>,
    spawns: readonly SpawnSpec[],
  ): Promise<ThreadRecord[]> {
    const book = this.state.book;
    const expected: string[] = [];
    const collect = (list: readonly SpawnSpec[]) => {
      for (const spec of list) {
        expected.push(spec.key);
        collect(spec.spawns ?? []);
      }
    };
    collect(spawns);
    const deadline = Date.now() + SPAWN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      this.#drain(session, run);
      const finished = expected.every((key) => {
        if (!book.has(key)) return false;
        const turns = book.ownTurns(book.get(key).id);
        return turns.length > 0 && turns.every((turn) => turn.status !== null);
      });
      if (finished) {
        await this.#settle();
        return expected.map((key) => book.get(key));
      }
      await sleep(50);
    }
    throw new Error(`sub-agents ${expected.join(', ')} did not all finish a turn in time`);
  }

  /** Waits until the mock model has been idle for a moment (sub-agent follow-ups land). */
  async #settle(quietMs = 500, boundMs = 10_000): Promise<void> {
    const deadline = Date.now() + boundMs;
    let seen = this.state.modelRequests.length;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      await sleep(50);
      if (this.state.modelRequests.length !== seen) {
        seen = this.state.modelRequests.length;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return;
      }
    }
  }

  // ---- census -----------------------------------------------------------------------------

  /**
   * Read-only look at every thread the scenario made, by the last binary: `thread/read` and
   * its turns. Nothing here writes (codex-db-effects.md §2.1).
   */
  async census(): Promise<void> {
    const last = this.state.scenario.runs.findLast((run) => run.kind === 'app-server');
    if (!last) return;
    this.#log(`census: thread/read and turns of every thread (codex ${last.codex}, fresh process)`);
    this.state.censusVersion = last.codex;
    const session = new AppServerSession({
      binary: ensureCodexCli(last.codex).binary,
      cwd: this.state.projectsDir,
      env: this.#env(last.tz),
      transcript: (dir, msg) => this.#record('census', dir, msg),
    });
    try {
      await session.initialize('skein_recorder_census', true);
      await this.#readAll(session);
    } finally {
      const code = await session.close();
      this.#record('census', 'process', { event: 'exit', code });
    }
  }

  async #readAll(session: AppServerSession): Promise<void> {
    for (const thread of this.state.book.threads) {
      if (thread.ephemeral) continue;
      const entry: CensusEntry = {};
      const read = await session.request('thread/read', { threadId: thread.id });
      if (read.ok) entry.read = read.result;
      else entry.readError = read.error.message;
      if (read.ok) {
        const turns: JsonObject[] = [];
        let cursor: string | null = null;
        let error: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const params: JsonObject = {
            threadId: thread.id,
            limit: 100,
            sortDirection: 'asc',
            itemsView: 'full',
          };
          if (cursor) params.cursor = cursor;
          const answer = await session.request('thread/turns/list', params);
          if (!answer.ok) {
            error = answer.error.message;
            break;
          }
          turns.push(...((answer.result.data as JsonObject[] | undefined) ?? []));
          cursor = typeof answer.result.nextCursor === 'string' ? answer.result.nextCursor : null;
          if (!cursor) break;
        }
        if (error !== undefined) {
          // 0.131 has no thread/turns/list: read the turns with the thread instead.
          const full = await session.request('thread/read', {
            threadId: thread.id,
            includeTurns: true,
          });
          if (full.ok) entry.turns = (asObject(full.result.thread).turns as JsonObject[]) ?? [];
          else entry.turnsError = `${error}; includeTurns: ${full.error.message}`;
        } else {
          entry.turns = turns;
        }
      }
      this.state.census.set(thread.key, entry);
    }
  }

  // ---- exec and TUI runs ------------------------------------------------------------------

  async #runExternal(run: Extract<Run, { kind: 'exec' | 'tui' }>): Promise<void> {
    const cli = ensureCodexCli(run.codex);
    const cwd = this.#projectDir(run.project);
    const before = this.state.modelRequests.length;
    let outcome: { code: number | null; output: string; skipped?: string };
    if (run.kind === 'exec') {
      const args = ['exec', '--skip-git-repo-check', run.prompt];
      this.#record(run.label, 'process', { event: 'spawn', argv: ['codex', ...args] });
      outcome = await this.#runProcess(cli.binary, args, cwd, this.#env(run.tz), 90_000);
    } else {
      outcome = await this.#runTui(cli.binary, run, cwd);
    }
    this.#record(run.label, 'process', {
      event: 'exit',
      code: outcome.code,
      outputTail: outcome.output.slice(-400),
    });
    // The TUI also asks the model for a title in a thread of its own (not persisted): the
    // scenario's thread is the one that got the prompt.
    const served = this.state.modelRequests.slice(before).filter((r) => r.status === 200);
    const ids = [
      ...new Set(
        served
          .filter((r) => r.lastUser === run.prompt && r.threadId !== undefined)
          .map((r) => r.threadId),
      ),
    ];
    const requests = served.filter((r) => r.threadId === ids[0]);
    if (ids.length !== 1) {
      const reason = outcome.skipped ?? `expected one thread, the model saw ${ids.length}`;
      this.state.skippedSteps.push({ run: run.label, step: `${run.kind} ${run.key}`, reason });
      this.#log(`  skipped: ${run.kind} ${run.key} (${reason})`);
      return;
    }
    // The thread exists once the model saw its prompt, finished or not: keep it in the book.
    if (outcome.skipped) this.state.problems.push(`${run.key}: ${outcome.skipped}`);
    const id = ids[0]!;
    const record = this.state.book.add(this.#blank(run.key, id, run.project, cwd, run));
    record.persisted = true;
    record.source = run.kind === 'exec' ? 'exec' : 'cli';
    record.actions.push(
      `${run.label}: codex ${run.kind === 'exec' ? 'exec' : '(TUI)'} ${JSON.stringify(run.prompt)}`,
    );
    const turn: TurnRecord = { id: '', userMessages: [], agentMessages: [], status: 'completed' };
    for (const request of requests) {
      if (request.kind === 'message' && request.reply !== undefined) {
        turn.userMessages = [request.lastUser ?? ''];
        turn.agentMessages.push(request.reply);
      }
    }
    this.state.book.addExternalTurn(id, turn);
    this.#log(`  ${run.key} = ${id}`);
  }

  #runProcess(
    binary: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    timeoutMs: number,
  ): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(binary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-20_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  /**
   * The interactive TUI needs a terminal: `script` (util-linux) gives it a pseudo-terminal.
   * The prompt is passed on the command line; once the model answered and the rollout holds
   * the finished turn, two Ctrl+C quit it.
   */
  async #runTui(
    binary: string,
    run: Extract<Run, { kind: 'exec' | 'tui' }>,
    cwd: string,
  ): Promise<{ code: number | null; output: string; skipped?: string }> {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
    } catch {
      return { code: null, output: '', skipped: 'no `script` command for a pseudo-terminal' };
    }
    const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
    const trust = `projects.${JSON.stringify(cwd)}.trust_level="trusted"`;
    const command = `stty cols 120 rows 40; exec ${quote(binary)} -c ${quote(trust)} ${quote(run.prompt)}`;
    this.#record(run.label, 'process', {
      event: 'spawn',
      argv: ['script', '-qfec', `codex -c ${trust} ${JSON.stringify(run.prompt)}`, '/dev/null'],
    });
    const env = { ...this.#env(run.tz), TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' };
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-20_000);
      // Answer the terminal queries the TUI sends at startup (cursor position, attributes).
      if (text.includes('\u001b[6n')) child.stdin.write('\u001b[1;1R');
      if (text.includes('\u001b[c')) child.stdin.write('\u001b[?62;c');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const before = this.state.modelRequests.length;
    const deadline = Date.now() + 45_000;
    let threadId: string | undefined;
    let finished = false;
    let lastPoke = Date.now();
    while (Date.now() < deadline && !finished) {
      await sleep(100);
      const served = this.state.modelRequests
        .slice(before)
        .find((r) => r.status === 200 && r.lastUser === run.prompt);
      threadId = served?.threadId;
      if (threadId) finished = this.#rolloutHasCompletedTurn(threadId);
      // 0.131 opens with a welcome screen that waits for Enter before it sends the prompt.
      if (!threadId && Date.now() - lastPoke > 3_000 && child.exitCode === null) {
        child.stdin.write('\r');
        lastPoke = Date.now();
      }
    }
    if (finished) await sleep(300);
    for (const key of ['\u0003', '\u0003']) {
      if (child.exitCode !== null) break;
      child.stdin.write(key);
      await sleep(400);
    }
    const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
    const hard = setTimeout(() => child.kill('SIGKILL'), 8_000);
    const code = await exited;
    clearTimeout(timer);
    clearTimeout(hard);
    if (!finished) return { code, output, skipped: 'the TUI did not finish a turn in 45 s' };
    return { code, output };
  }

  #rolloutHasCompletedTurn(threadId: string): boolean {
    const sessions = join(this.state.codexHome, 'sessions');
    if (!existsSync(sessions)) return false;
    const stack = [sessions];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) stack.push(path);
        else if (entry.name.endsWith(`${threadId}.jsonl`)) {
          return readFileSync(path, 'utf8').includes('"task_complete"');
        }
      }
    }
    return false;
  }
}

/**
 * Compares what the book tracked with the census answers; differences become problems. Turn ids
 * of threads written outside the app-server (exec, TUI) are only known from the census.
 */
function reconcile(state: RecordingState): void {
  for (const thread of state.book.threads) {
    const entry = state.census.get(thread.key);
    if (!entry) continue;
    const own = state.book.ownTurns(thread.id);
    if (entry.turns && own.length === entry.turns.length && own.every((turn) => turn.id === '')) {
      own.forEach((turn, index) => {
        turn.id = String(entry.turns?.[index]?.id ?? '');
      });
    }
    const where = `${thread.key} (${thread.id})`;
    const expectReadable = thread.persisted && !thread.deleted;
    if (!entry.read) {
      if (expectReadable) {
        state.problems.push(`${where}: census thread/read failed: ${entry.readError}`);
      }
      continue;
    }
    const api = asObject(entry.read.thread);
    if (!expectReadable) {
      state.problems.push(`${where}: expected gone, but thread/read answers it`);
      continue;
    }
    const same = (field: string, ours: unknown, theirs: unknown) => {
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        state.apiDifferences.push(
          `${where}: ${field} tracked ${JSON.stringify(ours)}, census ${JSON.stringify(theirs)}`,
        );
      }
    };
    same('name', thread.name, api.name ?? null);
    same('gitInfo', thread.gitInfo, gitInfoOf(api.gitInfo));
    same('forkedFromId', thread.forkedFromId, api.forkedFromId ?? null);
    same('parentThreadId', thread.parentThreadId, api.parentThreadId ?? null);
    if (entry.turns) {
      const turns = state.book.allTurns(thread);
      const ids = turns.map((turn) => turn.id).filter((id) => id !== '');
      const censusIds = entry.turns.map((turn) => String(turn.id));
      if (ids.length > 0) same('turnIds', ids, censusIds);
      const users = entry.turns.map((turn) =>
        ((turn.items as JsonObject[] | undefined) ?? [])
          .filter((item) => item.type === 'userMessage')
          .map((item) => itemText(item)),
      );
      same(
        'userMessages',
        turns.map((turn) => turn.userMessages),
        users,
      );
    }
  }
}

/** Records one scenario into `outDir`. */
export async function recordHome(options: RecordOptions): Promise<RecordResult> {
  const started = Date.now();
  const root = makeRoot();
  const recorder = new HomeRecorder(options.scenario, root, options);
  const log = options.log ?? (() => {});
  let manifest: RecordedManifest;
  try {
    await recorder.prepare();
    await recorder.run();
    await recorder.census();
    await recorder.stop();
    reconcile(recorder.state);
    log(`writing ${options.outDir}`);
    const written = writeRecordedHome(recorder.state, options.outDir);
    manifest = buildManifest(recorder.state, written);
    writeFileSync(join(options.outDir, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  } finally {
    await recorder.stop();
    if (!options.keepTemp) rmSync(root, { recursive: true, force: true });
  }
  const files = Object.values(manifest.files);
  return {
    scenario: options.scenario.name,
    outDir: options.outDir,
    codexVersions: [...new Set(options.scenario.runs.map((run) => run.codex))],
    threads: manifest.threads.length,
    persistedThreads: manifest.threads.filter((thread) => thread.persisted).length,
    files: files.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    transcriptMessages: recorder.state.transcript.length,
    modelRequests: recorder.state.modelRequests.length,
    durationMs: Date.now() - started,
    checkProblems: manifest.checkProblems,
    skippedSteps: manifest.skippedSteps,
    ...(options.keepTemp ? { tempRoot: root } : {}),
  };
}
