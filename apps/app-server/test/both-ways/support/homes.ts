/**
 * The Codex homes the both-ways suite runs on, installed into temp dirs: the two story
 * fixtures (written by 0.169.0 and 0.131.0) and the three homes recorded from the real
 * binaries (0.169.0 with paginated and legacy threads, 0.131.0, and a home 0.131.0 started and
 * 0.169.0 continued). Threads are found by their manifest key; nothing about them is
 * hard-coded beyond which key plays which part in the recorder's scenario.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, makeTempDir, removeTempDir, repoRoot } from '@skein/test-support';
import { installRecordedHome } from '../../../../../packages/test-support/test/support/install-recorded-home.js';

export type HomeKind =
  | 'fixture-0.169'
  | 'fixture-0.131'
  | 'recorded-0.169'
  | 'recorded-0.131'
  | 'recorded-mixed';

export type HistoryMode = 'paginated' | 'legacy';

export interface GitInfo {
  sha: string | null;
  branch: string | null;
  originUrl: string | null;
}

export interface HomeThread {
  key: string;
  id: string;
  name: string | null;
  archived: boolean;
  persisted: boolean;
  deleted: boolean;
  historyMode: HistoryMode;
  parentThreadId: string | null;
  forkedFromId: string | null;
  turnIds: string[];
  userMessages: string[];
  gitInfo: GitInfo | null;
}

export interface TestHome {
  kind: HomeKind;
  /** The temp `CODEX_HOME`. */
  home: string;
  /** The Codex version whose DB schema the home holds (`null`: no DB). */
  dbVersion: '0.169.0' | '0.131.0' | null;
  threads: HomeThread[];
  /** The thread with this manifest key (throws when the home has none). */
  thread(key: string): HomeThread;
  remove(): void;
}

const RECORDED: Record<string, string> = {
  'recorded-0.169': 'codex-0.169.0',
  'recorded-0.131': 'codex-0.131.0',
  'recorded-mixed': 'mixed-0.131.0-0.169.0',
};

export const ALL_HOMES: readonly HomeKind[] = [
  'fixture-0.169',
  'fixture-0.131',
  'recorded-0.169',
  'recorded-0.131',
  'recorded-mixed',
];

function gitOf(value: unknown): GitInfo | null {
  if (value === null || typeof value !== 'object') return null;
  const git = value as Partial<GitInfo>;
  return { sha: git.sha ?? null, branch: git.branch ?? null, originUrl: git.originUrl ?? null };
}

/** Installs a fresh copy of a home. `modelPort`: the mock model's port for recorded homes. */
export function installHome(kind: HomeKind, options: { modelPort?: number } = {}): TestHome {
  const home = makeTempDir(`skein-both-${kind}-`);
  let threads: HomeThread[];
  let dbVersion: TestHome['dbVersion'];
  const recorded = RECORDED[kind];
  if (recorded === undefined) {
    const fixture = kind === 'fixture-0.169' ? 'codex-0.169' : 'codex-0.131';
    const { manifest } = installFixtureHome(fixture, home);
    const mode: HistoryMode = manifest.rolloutFormat === 'paginated' ? 'paginated' : 'legacy';
    dbVersion = kind === 'fixture-0.169' ? '0.169.0' : '0.131.0';
    threads = manifest.threads.map((t) => ({
      key: t.key,
      id: t.id,
      name: t.name,
      archived: t.archived,
      persisted: t.persisted,
      deleted: false,
      historyMode: mode,
      parentThreadId: t.parentThreadId,
      forkedFromId: t.forkedFromId,
      turnIds: t.turnIds,
      userMessages: t.userMessages,
      gitInfo: gitOf(t.gitInfo),
    }));
  } else {
    const source = join(repoRoot(), 'packages/test-support/fixtures/recorded', recorded, 'home-a');
    const manifest = installRecordedHome(source, home);
    dbVersion = kind === 'recorded-0.131' ? '0.131.0' : '0.169.0';
    threads = manifest.threads.map((t) => ({
      key: t.key,
      id: t.id,
      name: t.name,
      archived: t.archived,
      persisted: t.persisted,
      deleted: t.deleted,
      historyMode: t.historyMode === 'paginated' ? 'paginated' : 'legacy',
      parentThreadId: t.parentThreadId,
      forkedFromId: t.forkedFromId,
      turnIds: t.turnIds,
      userMessages: t.userMessages,
      gitInfo: gitOf(t.gitInfo),
    }));
    if (options.modelPort !== undefined) {
      const config = String(manifest.configToml ?? '');
      writeFileSync(
        join(home, 'config.toml'),
        config.replaceAll('{port}', String(options.modelPort)),
      );
    }
  }
  return {
    kind,
    home,
    dbVersion,
    threads,
    thread(key) {
      const found = threads.find((t) => t.key === key);
      if (found === undefined) throw new Error(`${kind} has no thread ${key}`);
      return found;
    },
    remove: () => removeTempDir(home),
  };
}

/** The same home with its SQLite files removed: only rollouts and `session_index.jsonl`. */
export function installHomeWithoutDb(kind: HomeKind): TestHome {
  const installed = installHome(kind);
  for (const file of ['state_5.sqlite', 'thread_history_1.sqlite']) {
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(installed.home, file + suffix), { force: true });
  }
  return { ...installed, dbVersion: null };
}
