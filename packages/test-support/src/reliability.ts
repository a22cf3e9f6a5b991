import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';

/*
 * Shared pieces of the reliability tier (`*.reliability.test.ts`): one budget knob, a seeded
 * random source, a figures line per test, and children whose stdout lines can be awaited.
 * The same tests run short in CI and long as `pnpm bench:reliability`.
 */

export type ReliabilityProfile = 'ci' | 'long';

/** `SKEIN_RELIABILITY=long` selects the long runs (hundreds of kills, 100,000 fuzz messages). */
export function reliabilityProfile(): ReliabilityProfile {
  return process.env.SKEIN_RELIABILITY === 'long' ? 'long' : 'ci';
}

/**
 * A count or a duration for one test: `ci` by default, `long` under `SKEIN_RELIABILITY=long`;
 * `SKEIN_RELIABILITY_SCALE=<factor>` multiplies either (a quick local run: 0.5; a soak: 20).
 */
export function budget(ci: number, long: number): number {
  const base = reliabilityProfile() === 'long' ? long : ci;
  const scale = Number(process.env.SKEIN_RELIABILITY_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export type Figures = Record<string, number | string>;

/**
 * Prints a test's figures (`[reliability] <test>: kills 20, acknowledged 812, lost 0`) and,
 * when the tier collects them (`SKEIN_RELIABILITY_FIGURES`), appends them there for the table
 * `scripts/test-tier.sh reliability` prints at the end.
 */
export function recordFigures(test: string, figures: Figures, startedAtMs?: number): void {
  const ms = startedAtMs === undefined ? undefined : Date.now() - startedAtMs;
  const text = Object.entries(figures)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  console.log(
    `[reliability] ${test}: ${text}${ms === undefined ? '' : ` (${(ms / 1000).toFixed(1)} s)`}`,
  );
  const file = process.env.SKEIN_RELIABILITY_FIGURES;
  if (file) {
    const row = {
      test,
      profile: reliabilityProfile(),
      figures,
      ...(ms === undefined ? {} : { ms }),
    };
    appendFileSync(file, `${JSON.stringify(row)}\n`);
  }
}

/** A small seeded PRNG (mulberry32): a failing run is replayed with its printed seed. */
export class Rng {
  #state: number;
  readonly seed: number;

  constructor(seed: number = Number(process.env.SKEIN_RELIABILITY_SEED ?? Date.now() % 2 ** 31)) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(0, values.length - 1)] as T;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A child process whose stdout lines are kept and can be awaited, and whose stderr is kept
 * (bounded) for assertions and failure messages.
 */
export class LineChild {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  #stderr = '';
  #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
    this.child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 1_000_000) this.#stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (already seen or still to come) that passes `test`, within `timeoutMs`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no matching line within ${timeoutMs} ms; stderr: ${this.#stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      void this.exited.then(() => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`exited before a matching line; stderr: ${this.#stderr.slice(-2000)}`));
      });
    });
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}

export type RpcMessage = Record<string, unknown> & {
  id?: unknown;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

/**
 * A JSON-RPC peer over a child's stdio (newline-delimited JSON, the framing of `codex
 * app-server`): requests by id, answers kept in the order they arrived, pipelining allowed.
 */
export class JsonRpcChild extends LineChild {
  readonly answers = new Map<string, RpcMessage>();
  readonly notifications: RpcMessage[] = [];
  #nextId = 1;
  #waiters = new Map<string, (message: RpcMessage) => void>();

  constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
    super(command, args, options);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: RpcMessage;
      try {
        message = JSON.parse(line) as RpcMessage;
      } catch {
        return;
      }
      if (message.method !== undefined) {
        if (this.notifications.length < 10_000) this.notifications.push(message);
        return;
      }
      const key = JSON.stringify(message.id ?? null);
      this.answers.set(key, message);
      const waiter = this.#waiters.get(key);
      if (waiter) {
        this.#waiters.delete(key);
        waiter(message);
      }
    });
  }

  /** Writes one raw line (anything: garbage, a huge message, a message without newline). */
  writeRaw(text: string): boolean {
    if (!this.running || this.child.stdin?.destroyed) return false;
    return this.child.stdin!.write(`${text}\n`);
  }

  /**
   * Sends a request and returns its id (the answer is awaited with `answer`). Ids of its own
   * are `rpc-<n>`, so raw messages with numeric ids never collide with them.
   */
  send(
    method: string,
    params?: unknown,
    id: string | number = `rpc-${this.#nextId++}`,
  ): string | number {
    this.writeRaw(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    return id;
  }

  /** The answer to request `id` (already received or still to come), within `timeoutMs`. */
  answer(id: unknown, timeoutMs = 30_000): Promise<RpcMessage> {
    const key = JSON.stringify(id);
    const seen = this.answers.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(
          new Error(
            `no answer to ${key} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.set(key, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      void this.exited.then(() => {
        if (!this.#waiters.has(key)) return;
        this.#waiters.delete(key);
        clearTimeout(timer);
        reject(new Error(`exited before answering ${key}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  /** A request and its answer; throws on a JSON-RPC error unless `allowError`. */
  async request<T = unknown>(method: string, params?: unknown, timeoutMs = 30_000): Promise<T> {
    const message = await this.answer(this.send(method, params), timeoutMs);
    if (message.error !== undefined) {
      throw new Error(`${method}: JSON-RPC error ${message.error.code}: ${message.error.message}`);
    }
    return message.result as T;
  }

  async initialize(experimentalApi = false): Promise<void> {
    await this.request('initialize', {
      clientInfo: { name: 'skein_reliability', version: '1.0.0' },
      ...(experimentalApi ? { capabilities: { experimentalApi: true } } : {}),
    });
    this.writeRaw(JSON.stringify({ method: 'initialized' }));
  }
}

/** Where a thread's rollout files are on disk: `sessions/…` and `archived_sessions/…`. */
export function rolloutFilesOnDisk(
  home: string,
  threadId: string,
): { active: string[]; archived: string[] } {
  const find = (dir: string, out: string[]): string[] => {
    if (!existsSync(dir)) return out;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) find(path, out);
      else if (entry.name.startsWith('rollout-') && entry.name.endsWith(`${threadId}.jsonl`))
        out.push(path);
    }
    return out;
  };
  return {
    active: find(join(home, 'sessions'), []),
    archived: find(join(home, 'archived_sessions'), []),
  };
}

/** Every parsed JSON line of a file (torn or malformed lines skipped). */
export function jsonLinesOnDisk(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn tail, or a malformed line: readers skip it too
    }
  }
  return out;
}

/** The `seq <n>` texts of user `message` response items in a rollout, in file order. */
export function injectedSeqsOnDisk(file: string): number[] {
  const out: number[] = [];
  for (const line of jsonLinesOnDisk(file)) {
    const payload = line.payload as { type?: string; content?: { text?: string }[] } | undefined;
    if (line.type !== 'response_item' || payload?.type !== 'message') continue;
    for (const part of payload.content ?? []) {
      const match = /^seq (\d+)$/.exec(part?.text ?? '');
      if (match) out.push(Number(match[1]));
    }
  }
  return out;
}

/** The name `session_index.jsonl` gives a thread now (its last entry), or null. */
export function indexedNameOnDisk(home: string, threadId: string): string | null {
  const file = join(home, 'session_index.jsonl');
  if (!existsSync(file)) return null;
  let name: string | null = null;
  for (const line of jsonLinesOnDisk(file)) {
    if (line.id === threadId && typeof line.thread_name === 'string') name = line.thread_name;
  }
  return name;
}

/**
 * Acknowledged sequence numbers missing from `seqs` (`acknowledged`: every number up to it,
 * or exactly these), and whether `seqs` strictly increases (nothing twice, nothing reordered).
 */
export function lostSeqs(
  seqs: readonly number[],
  acknowledged: number | ReadonlySet<number>,
): { lost: number; inOrder: boolean } {
  const inOrder = seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!);
  const present = new Set(seqs);
  let lost = 0;
  if (typeof acknowledged === 'number') {
    for (let n = 1; n <= acknowledged; n += 1) if (!present.has(n)) lost += 1;
  } else {
    for (const n of acknowledged) if (!present.has(n)) lost += 1;
  }
  return { lost, inOrder };
}

export interface SyntheticThread {
  id: string;
  path: string;
  firstMessage: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Writes `count` small legacy rollouts (Codex 0.131's line shapes: session_meta, a user
 * message as response item and event, an agent reply) into `home`'s sessions/ tree, one second
 * apart from `startMs`, with no state DB: the first process to open the home backfills them.
 */
export function writeSyntheticHome(
  home: string,
  count: number,
  startMs = Date.UTC(2026, 0, 5, 9, 0, 0),
): SyntheticThread[] {
  const threads: SyntheticThread[] = [];
  for (let i = 0; i < count; i += 1) {
    const ms = startMs + i * 1000;
    const at = new Date(ms);
    const id = uuidV7Like(ms, i);
    const stamp = `${at.getUTCFullYear()}-${pad2(at.getUTCMonth() + 1)}-${pad2(at.getUTCDate())}T${pad2(at.getUTCHours())}-${pad2(at.getUTCMinutes())}-${pad2(at.getUTCSeconds())}`;
    const dir = join(
      home,
      'sessions',
      String(at.getUTCFullYear()),
      pad2(at.getUTCMonth() + 1),
      pad2(at.getUTCDate()),
    );
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `rollout-${stamp}-${id}.jsonl`);
    const timestamp = at.toISOString();
    const firstMessage = `Synthetic question ${i}`;
    const lines = [
      {
        timestamp,
        type: 'session_meta',
        payload: {
          id,
          timestamp,
          cwd: '/home/dev/projects/synthetic',
          originator: 'skein_reliability',
          cli_version: '0.131.0',
          source: 'cli',
          model_provider: 'openai',
          base_instructions: null,
        },
      },
      {
        timestamp,
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: firstMessage }],
        },
      },
      {
        timestamp,
        type: 'event_msg',
        payload: {
          type: 'user_message',
          message: firstMessage,
          images: [],
          local_images: [],
          text_elements: [],
        },
      },
      {
        timestamp,
        type: 'event_msg',
        payload: { type: 'agent_message', message: `Synthetic answer ${i}`, phase: null },
      },
    ];
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const seconds = ms / 1000;
    utimesSync(path, seconds, seconds);
    threads.push({ id, path, firstMessage });
  }
  return threads;
}

/** A UUIDv7-shaped id for a given time and index (deterministic, unique per index). */
function uuidV7Like(ms: number, index: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const tail = (index + 1).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

export interface BackfillSnapshot {
  /** Codex's `backfill_state.status`, or null before the DB exists. */
  status: string | null;
  /** The pid of the Skein process holding Skein's side of the backfill lease, if any. */
  holderPid: number | null;
  /** Files the current (or last) import counted. */
  filesDone: number | null;
  /** Rows in `threads`. */
  threads: number | null;
}

/**
 * A read-only look at a home's backfill: Codex's `backfill_state` row, Skein's lease holder
 * (`skein_1.sqlite`) and the thread count. Anything that cannot be read yet reads as null.
 */
export function backfillSnapshot(home: string): BackfillSnapshot {
  const snapshot: BackfillSnapshot = {
    status: null,
    holderPid: null,
    filesDone: null,
    threads: null,
  };
  const read = <T>(file: string, query: (db: Database.Database) => T): T | null => {
    if (!existsSync(join(home, file))) return null;
    let db: Database.Database | undefined;
    try {
      db = new Database(join(home, file), { readonly: true, fileMustExist: true, timeout: 200 });
      return query(db);
    } catch {
      return null;
    } finally {
      db?.close();
    }
  };
  read('state_5.sqlite', (db) => {
    const row = db.prepare('SELECT status FROM backfill_state WHERE id = 1').get() as
      | { status: string }
      | undefined;
    snapshot.status = row?.status ?? null;
    snapshot.threads = (db.prepare('SELECT count(*) AS n FROM threads').get() as { n: number }).n;
  });
  read('skein_1.sqlite', (db) => {
    const lease = db.prepare("SELECT owner_pid FROM leases WHERE name = 'backfill'").get() as
      | { owner_pid: number }
      | undefined;
    snapshot.holderPid = lease?.owner_pid ?? null;
    const progress = db.prepare('SELECT files_done FROM backfill_progress WHERE id = 1').get() as
      | { files_done: number }
      | undefined;
    snapshot.filesDone = progress?.files_done ?? null;
  });
  return snapshot;
}
