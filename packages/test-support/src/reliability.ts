import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

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
