/**
 * What every part of a recording shares: the recording state, the log, the transcript, and
 * where a scenario's projects and processes live (directory and environment per run).
 */
import { join } from 'node:path';
import type { RecordingState } from './recording-state.js';

/** The recording's state and the helpers the run, census and process drivers use. */
export interface RecorderContext {
  readonly state: RecordingState;
  log(line: string): void;
  /** Appends a message to the transcript, stamped with the time since the recording began. */
  record(label: string, dir: string, msg: unknown): void;
  /** The directory of a scenario project. */
  projectDir(project: string): string;
  /** The environment of a Codex process run in a time zone. */
  env(tz: string): NodeJS.ProcessEnv;
}

/** A context over `state`, its transcript clock starting now. */
export function createRecorderContext(
  state: RecordingState,
  log: (line: string) => void,
): RecorderContext {
  const t0 = Date.now();
  return {
    state,
    log,
    record(label, dir, msg) {
      state.transcript.push({ t: Date.now() - t0, label, dir, msg });
    },
    projectDir(project) {
      const dir = state.scenario.projects[project];
      if (!dir) throw new Error(`scenario uses unknown project ${project}`);
      return join(state.projectsDir, dir);
    },
    env(tz) {
      return {
        PATH: process.env.PATH,
        HOME: state.root,
        CODEX_HOME: state.codexHome,
        TZ: tz,
        LANG: 'C.UTF-8',
        GIT_CONFIG_NOSYSTEM: '1',
      };
    },
  };
}
