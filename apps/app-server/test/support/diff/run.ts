/** One differential run: survey a home, generate a sequence, play it on both servers, compare. */
import { removeTempDir } from '@skein/test-support';
import { type Comparison, compareRecording, type KnownDifference } from './compare.js';
import { generateSequence } from './generator.js';
import { type HomeSurvey, surveyHome } from './home-survey.js';
import { homeSource } from './homes.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { cleanupRecording, type Recording, runSequence } from './runner.js';
import type { Step } from './sequence.js';

export interface DifferentialOptions {
  /** A fixture name (`codex-0.169`, `codex-0.131`) or a home directory. */
  home: string;
  /** Written as config.toml into both copies of the home. */
  configToml?: string;
  seed: number;
  known?: readonly KnownDifference[];
  log?: (line: string) => void;
}

export interface DifferentialRun {
  home: string;
  seed: number;
  survey: HomeSurvey;
  sequence: Step[];
  recording: Recording;
  comparison: Comparison;
}

export async function runDifferential(options: DifferentialOptions): Promise<DifferentialRun> {
  const source = homeSource(options.home, options.configToml);
  // The survey reads a copy of its own, so nothing a server does can change it.
  const surveyCopy = source.install();
  let survey: HomeSurvey;
  try {
    survey = surveyHome(surveyCopy);
  } finally {
    removeTempDir(surveyCopy);
  }
  let sequence: Step[] = [];
  const recording = await runSequence(
    (workdir) => {
      sequence = generateSequence(survey, { seed: options.seed, workdir });
      return sequence;
    },
    { installHome: () => source.install(), ...(options.log ? { log: options.log } : {}) },
  );
  try {
    const comparison = compareRecording(
      recording,
      survey.knownIds,
      options.known ?? KNOWN_DIFFERENCES,
    );
    return { home: source.name, seed: options.seed, survey, sequence, recording, comparison };
  } finally {
    cleanupRecording(recording);
  }
}
