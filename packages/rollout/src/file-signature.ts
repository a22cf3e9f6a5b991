import { statSync } from 'node:fs';
import { settledBefore } from '@skein/state';

/*
 * What lets a listing reuse what it read from a file or directory before: the stat signature
 * the object had then, compared with the one it has now, and a bounded cache for the results.
 */

/** A file's or directory's identity and version, as `stat` gives them (nanosecond times). */
export interface StatSignature {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** The signature of what `path` names now (links followed); null when nothing is there. */
export function statSignature(path: string): StatSignature | null {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (stats === undefined) return null;
  const { dev, ino, size, mtimeNs, ctimeNs } = stats;
  return { dev, ino, size, mtimeNs, ctimeNs };
}

export function sameSignature(a: StatSignature, b: StatSignature): boolean {
  return (
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.dev === b.dev
  );
}

/**
 * Whether a signature taken before a read at `readAtNs` vouches for what was read: its times
 * are clearly older than the read (the racy-stat rule), so any later change shows in them.
 * Any write to a file changes its mtime and ctime; any entry added, removed or renamed in a
 * directory changes the directory's.
 */
export function vouchesForRead(signature: StatSignature, readAtNs: bigint): boolean {
  return settledBefore(signature.mtimeNs, readAtNs) && settledBefore(signature.ctimeNs, readAtNs);
}

/**
 * A least-recently-used map bounded by the total weight of its values (bytes, as each entry
 * estimates them) and by its entry count; a value heavier than a sixteenth of the budget is
 * not kept.
 */
export class WeightedLru<V> {
  readonly #entries = new Map<string, { value: V; weight: number }>();
  #weight = 0;

  constructor(
    readonly maxWeight: number,
    readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  set(key: string, value: V, weight: number): void {
    this.delete(key);
    if (weight > this.maxWeight / 16) return;
    this.#entries.set(key, { value, weight });
    this.#weight += weight;
    for (const [oldestKey, oldest] of this.#entries) {
      if (this.#weight <= this.maxWeight && this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldestKey);
      this.#weight -= oldest.weight;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
