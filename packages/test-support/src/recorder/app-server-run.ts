/**
 * The scenario steps of an app-server run: one `codex app-server` process, each step a request
 * (thread/start, turn/start, name, git, archive, fork, ...) whose answer and notifications are
 * folded into the thread book; turns wait for their completion and for the sub-agents they
 * spawn. Steps a version cannot do are skipped and listed.
 */
import { ensureCodexCli } from '../codex-cli.js';
import { sleep } from '../reliability/budget.js';
import { AppServerSession, type JsonObject } from './app-server-session.js';
import type { RecorderContext } from './recorder-context.js';
import {
  type Run,
  type SpawnSpec,
  type Step,
  stepNeeds,
  versionFeatures,
} from './scenario-types.js';
import { asObject, blankThreadRecord, gitInfoOf, type ThreadRecord } from './thread-book.js';

const TURN_TIMEOUT_MS = 60_000;
const SPAWN_TIMEOUT_MS = 60_000;

/** How a step reads in logs, skip lists and a thread's actions. */
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

/** Runs the app-server runs of a scenario, one session after another. */
export class AppServerRunner {
  readonly #ctx: RecorderContext;
  #cursor = new Map<AppServerSession, number>();

  constructor(ctx: RecorderContext) {
    this.#ctx = ctx;
  }

  async runAppServer(run: Extract<Run, { kind: 'app-server' }>): Promise<void> {
    const cli = ensureCodexCli(run.codex);
    const session = new AppServerSession({
      binary: cli.binary,
      cwd: this.#ctx.state.projectsDir,
      env: this.#ctx.env(run.tz),
      transcript: (dir, msg) => this.#ctx.record(run.label, dir, msg),
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
      this.#ctx.record(run.label, 'process', { event: 'exit', code });
    }
    this.#drain(session, run);
  }

  /** A thread the step needs that an earlier, skipped step should have created. */
  #missingThread(step: Step): string | undefined {
    const book = this.#ctx.state.book;
    if (step.do === 'pause' || step.do === 'start') return undefined;
    if (step.do === 'fork') return book.has(step.from) ? undefined : step.from;
    return book.has(step.key) ? undefined : step.key;
  }

  #skip(label: string, step: Step, reason: string): void {
    const entry = { run: label, step: describeStep(step), reason };
    this.#ctx.state.skippedSteps.push(entry);
    this.#ctx.log(`  skipped: ${entry.step} (${reason})`);
    if ('key' in step && this.#ctx.state.book.has(step.key)) {
      this.#ctx.state.book.get(step.key).actions.push(`${label}: skipped ${entry.step}: ${reason}`);
    }
  }

  /** Folds new notifications into the book and keys the sub-agents they announce. */
  #drain(session: AppServerSession, run: Extract<Run, { kind: 'app-server' }>): void {
    const book = this.#ctx.state.book;
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
          if (!spec)
            this.#ctx.state.problems.push(`unexpected sub-agent ${childId} of ${parent.key}`);
          book.add({
            ...blankThreadRecord(key, childId, parent.project, parent.cwd, run),
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
    const book = this.#ctx.state.book;
    const label = run.label;
    const action = `${label}: ${describeStep(step)}`;
    if (step.do !== 'pause') this.#ctx.log(`  ${describeStep(step)}`);
    switch (step.do) {
      case 'pause':
        await sleep(step.ms);
        return;
      case 'start': {
        const features = versionFeatures(run.codex);
        const params: JsonObject = { cwd: this.#ctx.projectDir(step.project) };
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
          blankThreadRecord(step.key, String(thread.id), step.project, String(params.cwd), run),
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
          blankThreadRecord(step.key, String(thread.id), source.project, source.cwd, run),
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
      this.#ctx.state.problems.push(
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
    this.#ctx.state.skippedSteps.push({
      run: action.split(':')[0]!,
      step: action,
      reason: message,
    });
    this.#ctx.log(`  refused: ${message}`);
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
    const book = this.#ctx.state.book;
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
    const book = this.#ctx.state.book;
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
    let seen = this.#ctx.state.modelRequests.length;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      await sleep(50);
      if (this.#ctx.state.modelRequests.length !== seen) {
        seen = this.#ctx.state.modelRequests.length;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return;
      }
    }
  }
}
