/**
 * What a scenario is made of: runs (each one Codex process against the home) and their steps,
 * the features a step needs and which Codex versions offer them. The scenarios themselves are
 * in scenario.ts.
 */

export type GitPatch = { sha?: string | null; branch?: string | null; originUrl?: string | null };

/** A sub-agent the model spawns during a turn; it may spawn its own. */
export interface SpawnSpec {
  key: string;
  task: string;
  spawns?: SpawnSpec[];
}

/** Capabilities a step needs; versions without them skip the step (listed in the manifest). */
export type Feature = 'historyMode' | 'readState' | 'delete' | 'injectItems' | 'forkAtTurn';

export type Step =
  | {
      do: 'start';
      key: string;
      project: string;
      ephemeral?: boolean;
      /** Only where the version has history modes (0.131 threads are all legacy anyway). */
      historyMode?: 'legacy' | 'paginated';
      modelProvider?: string;
      threadSource?: string;
    }
  | { do: 'turn'; key: string; text: string; spawns?: SpawnSpec[] }
  | { do: 'turns'; key: string; texts: string[] }
  | { do: 'name'; key: string; name: string }
  | { do: 'git'; key: string; gitInfo: GitPatch }
  | { do: 'archive'; key: string }
  | { do: 'unarchive'; key: string }
  | { do: 'delete'; key: string }
  /** `afterTurn`: keep the source's turns up to this 1-based turn (the fork's `lastTurnId`). */
  | { do: 'fork'; key: string; from: string; afterTurn?: number }
  | { do: 'resume'; key: string }
  | { do: 'inject'; key: string; text: string }
  | { do: 'readState'; key: string; read: boolean }
  /** Spaces thread creation so `created_at` seconds differ (list order and cursors). */
  | { do: 'pause'; ms: number };

export type Run =
  | {
      kind: 'app-server';
      label: string;
      codex: string;
      /** Local time zone of the process: rollout file names and date folders use local time. */
      tz: string;
      clientName: string;
      steps: Step[];
    }
  | {
      /** `codex exec <prompt>`: a thread with source `exec`. */
      kind: 'exec' | 'tui';
      label: string;
      codex: string;
      tz: string;
      key: string;
      project: string;
      prompt: string;
    };

export interface Scenario {
  name: string;
  description: string;
  /** Project key → directory name under `projects/`; `gitProject` is made a git repository. */
  projects: Record<string, string>;
  gitProject: string;
  runs: Run[];
  /** Thread keys by role, for generic tests. */
  roles: Record<string, string>;
  probes: Record<string, unknown>;
  notes: string[];
}

/** The providers the home's config.toml defines; the first is `model_provider`. */
export const PROVIDERS = ['mock', 'mock_alt'] as const;
export const MODEL = 'mock-model';

/** Builds a prompt whose reply spawns the given sub-agents (see mock-model.ts). */
export function spawnPrompt(intro: string, spawn: SpawnSpec): string {
  const task = spawn.spawns?.length ? spawnPrompt(spawn.task, spawn.spawns[0]!) : spawn.task;
  return `${intro} [[spawn_agent: ${task}]]`;
}

export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string) => v.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const a = parse(version);
  const b = parse(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

/** What a Codex version offers; the lists come from trying each method on 0.131.0 and 0.169.0. */
export function versionFeatures(version: string): Set<Feature> {
  const features = new Set<Feature>(['injectItems']);
  if (versionAtLeast(version, '0.169.0')) {
    // 0.131.0 accepts `lastTurnId` on thread/fork but ignores it (the fork copies every turn).
    features.add('forkAtTurn');
    features.add('historyMode');
    features.add('readState');
    features.add('delete');
  }
  return features;
}

export function stepNeeds(step: Step): Feature | undefined {
  switch (step.do) {
    case 'readState':
      return 'readState';
    case 'delete':
      return 'delete';
    case 'inject':
      return 'injectItems';
    case 'fork':
      return step.afterTurn !== undefined ? 'forkAtTurn' : undefined;
    default:
      return undefined;
  }
}
