import type { ThreadId } from '@skein/protocol';
import type { DoctorFinding, StateDbFindingKind, StateDbSummary } from '@skein/state';
import type { HistoryBase } from '../schema.js';

/** Findings about the rollout files themselves (reported; a rollout is never rewritten). */
export type RolloutFileFindingKind =
  | 'empty-file'
  | 'no-session-meta'
  | 'file-id-mismatch'
  | 'malformed-lines'
  | 'torn-tail'
  | 'unterminated-tail'
  | 'duplicate-file'
  | 'link-outside-home';

/** Rows of `threads` against the files they index. */
export type RowFindingKind =
  | 'row-outside-home'
  | 'row-file-moved'
  | 'row-file-missing'
  | 'row-file-other-thread'
  | 'row-archived-mismatch'
  | 'file-not-indexed';

/** `session_index.jsonl` against the names the DB holds. */
export type NameFindingKind =
  | 'name-missing-in-db'
  | 'name-missing-in-index'
  | 'name-mismatch'
  | 'name-unknown-thread';

/** Codex 0.169's paginated projection (`thread_history_1.sqlite`) against the rollouts. */
export type ProjectionFindingKind =
  | 'projection-missing'
  | 'projection-behind'
  | 'projection-ahead'
  | 'projection-rows-missing'
  | 'projection-orphan';

/** Forks by reference against the source rollouts they read through. */
export type LineageFindingKind = 'fork-source-missing' | 'fork-source-short';

/**
 * Every kind of finding `diagnoseHome` reports (files, rows, names, projection, lineage, state
 * DB).
 */
export type HomeFindingKind =
  | StateDbFindingKind
  | RolloutFileFindingKind
  | RowFindingKind
  | NameFindingKind
  | ProjectionFindingKind
  | LineageFindingKind;

/** One finding of `diagnoseHome`. */
export type HomeFinding = DoctorFinding<HomeFindingKind>;

/** One rollout file as the scan read it. */
export interface ScannedFile {
  /** Thread id from the file name. */
  nameId: ThreadId;
  /** The logical plain `.jsonl` path (what rows store). */
  path: string;
  /** The file read (plain, or the `.zst` sibling). */
  file: string;
  archived: boolean;
  /** Bytes on disk. */
  size: number;
  /** Id from its own first line, the `session_meta`; null when that line is not one. */
  ownId: ThreadId | null;
  historyMode: string | null;
  historyBase: HistoryBase | null;
}

/** What every check family reads once: the home's rollout files, by thread. */
export interface HomeScan {
  /** Absolute, resolved Codex home. */
  home: string;
  files: ScannedFile[];
  /** Files by the thread they hold (own id, else the file name's). */
  byThread: Map<string, ScannedFile[]>;
  /** Home-relative display path. */
  rel(path: string): string;
}

/** How many rollout files `diagnoseHome` checked (active, archived) and their total size. */
export interface FilesSummary {
  checked: number;
  active: number;
  archived: number;
  bytes: number;
}

/**
 * `diagnoseHome`'s result: the home, the files checked, the state DB's summary, and the findings.
 */
export interface HomeDiagnosis {
  home: string;
  files: FilesSummary;
  stateDb: StateDbSummary;
  findings: HomeFinding[];
}

/**
 * Which home `diagnoseHome` / `repairHome` check, where its DBs are, and the provider of rollouts
 * that name none.
 */
export interface DoctorOptions {
  codexHome: string;
  /** Directory of the DB files (Codex's `sqlite_home`); default: where Codex keeps them. */
  sqliteHome?: string;
  /** Provider recorded for rollouts that name none (indexing repairs). */
  defaultProvider?: string;
}

/** A finding after `repairHome`: whether the repair took, verified by a second diagnosis. */
export type RepairedFinding = HomeFinding & { repaired: boolean; repairError?: string };

/**
 * `repairHome`'s result: each finding marked repaired or not, and the diagnosis after the repairs.
 */
export interface HomeRepair {
  /** What was found before repairing, each marked repaired or not. */
  findings: RepairedFinding[];
  /** The diagnosis after the repairs (what remains, including anything the repairs revealed). */
  after: HomeDiagnosis;
}
