/**
 * Which thread of each home plays which part, per history mode. The keys are the scenario keys
 * of the fixture and recorder READMEs (T2 "plain", T8 "parent", P4 → P4c → P4g, ...). A home
 * without a thread of that mode and part leaves the entry out, and `castPairs` then makes no
 * test for that home and mode (the fixture homes hold one mode each; the recorded 0.169 home
 * has no archived paginated parent with children, the mixed home no paginated parent).
 */
import type { HistoryMode, HomeKind } from './homes.js';

export interface Tree {
  root: string;
  descendants: string[];
}

export interface ForkPair {
  source: string;
  fork: string;
}

export interface Cast {
  /** Threads with turns, not archived, no relatives: renamed, git-updated, appended to. */
  plain: Partial<Record<HistoryMode, [string, string]>>;
  /** A non-archived parent with its spawned descendants. */
  tree: Partial<Record<HistoryMode, Tree>>;
  /** An archived thread (with its archived descendants, if any). */
  archived: Partial<Record<HistoryMode, Tree>>;
  /** A source and a fork of it in the same mode. */
  fork: Partial<Record<HistoryMode, ForkPair>>;
}

export const CASTS: Record<HomeKind, Cast> = {
  'fixture-0.169': {
    plain: { paginated: ['T2', 'T7'] },
    tree: { paginated: { root: 'T8', descendants: ['T8c'] } },
    archived: { paginated: { root: 'T11', descendants: [] } },
    fork: { paginated: { source: 'T3', fork: 'T9' } },
  },
  'fixture-0.131': {
    plain: { legacy: ['T2', 'T7'] },
    tree: { legacy: { root: 'T8', descendants: ['T8c'] } },
    archived: { legacy: { root: 'T11', descendants: [] } },
    fork: { legacy: { source: 'T3', fork: 'T9' } },
  },
  'recorded-0.169': {
    plain: { paginated: ['P2', 'P9'], legacy: ['L3', 'L1'] },
    tree: { paginated: { root: 'P4', descendants: ['P4c', 'P4g'] } },
    archived: {
      paginated: { root: 'P10', descendants: [] },
      legacy: { root: 'L2', descendants: ['L2c'] },
    },
    fork: {
      paginated: { source: 'P3', fork: 'F1' },
      legacy: { source: 'L1', fork: 'F3' },
    },
  },
  'recorded-0.131': {
    plain: { legacy: ['P2', 'P9'] },
    tree: { legacy: { root: 'D2', descendants: ['D2c'] } },
    archived: { legacy: { root: 'L2', descendants: ['L2c'] } },
    fork: { legacy: { source: 'P3', fork: 'F1' } },
  },
  'recorded-mixed': {
    plain: { paginated: ['P11', 'F6'], legacy: ['P2', 'L3'] },
    tree: { legacy: { root: 'P4', descendants: ['P4c', 'P4g'] } },
    archived: { legacy: { root: 'L2', descendants: ['L2c'] } },
    fork: {
      paginated: { source: 'P11', fork: 'F6' },
      legacy: { source: 'P3', fork: 'F7' },
    },
  },
};

export const MODES: readonly HistoryMode[] = ['paginated', 'legacy'];

/** `[home, mode]` pairs where the home has a cast entry of that part and mode. */
export function castPairs<K extends keyof Cast>(
  homes: readonly HomeKind[],
  part: K,
): [HomeKind, HistoryMode][] {
  return homes.flatMap((home) =>
    MODES.filter((mode) => CASTS[home][part][mode] !== undefined).map(
      (mode) => [home, mode] as [HomeKind, HistoryMode],
    ),
  );
}
