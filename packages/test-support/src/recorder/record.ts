/**
 * Runs a scenario against the real Codex binaries in a fresh temporary home and writes the
 * recorded home (payload, MANIFEST.json, transcript.jsonl) to an output folder.
 *
 * The temporary root is `/tmp/` plus four characters: exactly as long as the placeholder
 * `/home/dev`, so replacing one with the other keeps every byte offset Codex stored (the
 * history DB indexes rollout lines by byte offset).
 *
 * This file prepares the home and drives the runs; the steps of an app-server run are in
 * app-server-run.ts, exec and TUI runs in external-run.ts, the read-back in census.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppServerRunner } from './app-server-run.js';
import { censusThreads, reconcile } from './census.js';
import { runExecOrTui } from './external-run.js';
import { PLACEHOLDER_ROOT, writeRecordedHome } from './home-writer.js';
import { buildManifest, type RecordedManifest } from './manifest.js';
import { MockModelServer } from './mock-model.js';
import { createRecorderContext, type RecorderContext } from './recorder-context.js';
import type { RecordingState, SkippedStep } from './recording-state.js';
import { MODEL, PROVIDERS, type Scenario } from './scenario-types.js';
import { ThreadBook } from './thread-book.js';

export type {
  CensusEntry,
  GitProject,
  RecordingState,
  SkippedStep,
  TranscriptEntry,
} from './recording-state.js';

export interface RecordOptions {
  scenario: Scenario;
  /** The folder that receives the home (`…/<name>/home-a`). Replaced if it exists. */
  outDir: string;
  log?: (line: string) => void;
  /** Keep the temporary root for inspection instead of removing it. */
  keepTemp?: boolean;
}

export interface RecordResult {
  scenario: string;
  outDir: string;
  codexVersions: string[];
  threads: number;
  persistedThreads: number;
  files: number;
  bytes: number;
  transcriptMessages: number;
  modelRequests: number;
  durationMs: number;
  checkProblems: string[];
  skippedSteps: SkippedStep[];
  tempRoot?: string;
}

/** Creates `/tmp/xxxx` (same length as the placeholder root); retries on collisions. */
function makeRoot(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const bytes = randomBytes(4);
    const name = Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
    const root = `/tmp/${name}`;
    if (root.length !== PLACEHOLDER_ROOT.length) continue;
    try {
      mkdirSync(root, { mode: 0o700 });
      return root;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error('recorder: could not create a free /tmp/xxxx root');
}

function gitEnv(root: string): NodeJS.ProcessEnv {
  const when = '2026-01-05T09:00:00Z';
  return {
    PATH: process.env.PATH,
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Skein Recorder',
    GIT_AUTHOR_EMAIL: 'recorder@example.invalid',
    GIT_COMMITTER_NAME: 'Skein Recorder',
    GIT_COMMITTER_EMAIL: 'recorder@example.invalid',
    GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_DATE: when,
  };
}

/** A git repository with one commit whose sha is the same on every run (fixed dates, names). */
function makeGitProject(
  root: string,
  dir: string,
): RecordingState['git'] extends infer G ? Omit<G, 'project'> : never {
  const env = gitEnv(root);
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), '# gamma\n\nA project the recorder keeps under git.\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'Initial gamma commit');
  const originUrl = 'https://example.invalid/acme/gamma.git';
  git('remote', 'add', 'origin', originUrl);
  return { head: git('rev-parse', 'HEAD').trim(), branch: 'main', originUrl };
}

function configToml(baseUrl: (provider: string) => string): string {
  const lines = [
    `model = "${MODEL}"`,
    `model_provider = "${PROVIDERS[0]}"`,
    'approval_policy = "never"',
    'sandbox_mode = "read-only"',
    '',
    '[agents]',
    '# Lets a sub-agent spawn its own (the scenario has a grandchild).',
    'max_depth = 2',
  ];
  for (const provider of PROVIDERS) {
    lines.push(
      '',
      `[model_providers.${provider}]`,
      `name = "${provider}"`,
      `base_url = "${baseUrl(provider)}"`,
      'wire_api = "responses"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      'stream_idle_timeout_ms = 30000',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Prepares the home, runs the scenario (app-server runs and exec/TUI runs), and reads it back. */
export class HomeRecorder {
  readonly state: RecordingState;
  #mock: MockModelServer | undefined;
  readonly #ctx: RecorderContext;
  readonly #appServer: AppServerRunner;

  constructor(scenario: Scenario, root: string, options: Pick<RecordOptions, 'log'>) {
    this.state = {
      scenario,
      root,
      codexHome: join(root, '.codex'),
      projectsDir: join(root, 'projects'),
      git: { project: scenario.gitProject, head: '', branch: '', originUrl: '' },
      book: new ThreadBook(),
      transcript: [],
      modelRequests: [],
      census: new Map(),
      censusVersion: '',
      skippedSteps: [],
      problems: [],
      apiDifferences: [],
      configToml: '',
      startedAt: new Date(),
    };
    this.#ctx = createRecorderContext(this.state, options.log ?? (() => {}));
    this.#appServer = new AppServerRunner(this.#ctx);
  }

  async prepare(): Promise<void> {
    const { scenario, codexHome } = this.state;
    mkdirSync(codexHome, { recursive: true });
    for (const project of Object.keys(scenario.projects)) {
      mkdirSync(this.#ctx.projectDir(project), { recursive: true });
    }
    this.state.git = {
      project: scenario.gitProject,
      ...makeGitProject(this.state.root, this.#ctx.projectDir(scenario.gitProject)),
    };
    this.#mock = await MockModelServer.start({
      onRequest: (request) => {
        this.state.modelRequests.push(request);
        this.#ctx.record('mock-model', 'model-request', request);
      },
    });
    const mock = this.#mock;
    this.state.configToml = configToml((provider) => mock.baseUrl(provider));
    writeFileSync(join(codexHome, 'config.toml'), this.state.configToml);
  }

  async run(): Promise<void> {
    for (const run of this.state.scenario.runs) {
      this.#ctx.log(`${run.label}: ${run.kind} codex ${run.codex} (TZ=${run.tz})`);
      if (run.kind === 'app-server') {
        await this.#appServer.runAppServer(run);
      } else {
        await runExecOrTui(this.#ctx, run);
      }
    }
  }

  async stop(): Promise<void> {
    const mock = this.#mock;
    if (!mock) return;
    this.#mock = undefined;
    await mock.close();
  }

  /**
   * Read-only look at every thread the scenario made, by the last binary (see census.ts).
   */
  async census(): Promise<void> {
    await censusThreads(this.#ctx);
  }
}

/** Records one scenario into `outDir`. */
export async function recordHome(options: RecordOptions): Promise<RecordResult> {
  const started = Date.now();
  const root = makeRoot();
  const recorder = new HomeRecorder(options.scenario, root, options);
  const log = options.log ?? (() => {});
  let manifest: RecordedManifest;
  try {
    await recorder.prepare();
    await recorder.run();
    await recorder.census();
    await recorder.stop();
    reconcile(recorder.state);
    log(`writing ${options.outDir}`);
    const written = writeRecordedHome(recorder.state, options.outDir);
    manifest = buildManifest(recorder.state, written);
    writeFileSync(join(options.outDir, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  } finally {
    await recorder.stop();
    if (!options.keepTemp) rmSync(root, { recursive: true, force: true });
  }
  const files = Object.values(manifest.files);
  return {
    scenario: options.scenario.name,
    outDir: options.outDir,
    codexVersions: [...new Set(options.scenario.runs.map((run) => run.codex))],
    threads: manifest.threads.length,
    persistedThreads: manifest.threads.filter((thread) => thread.persisted).length,
    files: files.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    transcriptMessages: recorder.state.transcript.length,
    modelRequests: recorder.state.modelRequests.length,
    durationMs: Date.now() - started,
    checkProblems: manifest.checkProblems,
    skippedSteps: manifest.skippedSteps,
    ...(options.keepTemp ? { tempRoot: root } : {}),
  };
}
