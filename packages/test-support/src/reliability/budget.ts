/**
 * The reliability tier's run budget (`ci` or `long`, scaled), its seeded random source, the
 * figures line each test prints (and the tier collects into a table), and `sleep` for pacing.
 * The same tests run short in CI and long as `pnpm bench:reliability`.
 */
import { appendFileSync } from 'node:fs';

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
