import type { JsonObject } from './app-server-session.js';
import type { ModelRequestRecord } from './mock-model.js';
import type { Scenario } from './scenario-types.js';
import type { ThreadBook } from './thread-book.js';

/*
 * What a recording holds while it runs: shared by the recorder (record.ts), the home writer and
 * the manifest builder, which therefore never import one another for it.
 */

export interface TranscriptEntry {
  t: number;
  label: string;
  dir: string;
  msg: unknown;
}

export interface CensusEntry {
  read?: JsonObject;
  readError?: string;
  turns?: JsonObject[];
  turnsError?: string;
}

export interface SkippedStep {
  run: string;
  step: string;
  reason: string;
}

export interface GitProject {
  project: string;
  head: string;
  branch: string;
  originUrl: string;
}

/** Context handed to the home writer and manifest builder. */
export interface RecordingState {
  scenario: Scenario;
  root: string;
  codexHome: string;
  projectsDir: string;
  git: GitProject;
  book: ThreadBook;
  transcript: TranscriptEntry[];
  modelRequests: ModelRequestRecord[];
  census: Map<string, CensusEntry>;
  censusVersion: string;
  skippedSteps: SkippedStep[];
  /** Recorder failures: a leaked path, a thread that should be readable and is not, … */
  problems: string[];
  /** Where the census (a fresh Codex reading the finished home) disagrees with the wire. */
  apiDifferences: string[];
  configToml: string;
  startedAt: Date;
}
