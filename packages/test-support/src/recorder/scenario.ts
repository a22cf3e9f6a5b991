/**
 * The story a recorded home tells: which threads exist, what was done to them and in which
 * session. Runs are executed in order against one CODEX_HOME; each run is one Codex process.
 * Steps name threads by key (P = paginated by default, L = legacy, F = fork, D = deleted,
 * N = never messaged, E = ephemeral, X = started outside the app-server). Their vocabulary is in
 * scenario-types.ts.
 */
import {
  type Run,
  type Scenario,
  type SpawnSpec,
  type Step,
  spawnPrompt,
} from './scenario-types.js';

const P4_SPAWN: SpawnSpec = {
  key: 'P4c',
  task: 'Sub-agent task: draft the beta changelog',
  spawns: [{ key: 'P4g', task: 'Grandchild task: list the beta commits' }],
};
const L2_SPAWN: SpawnSpec = {
  key: 'L2c',
  task: 'Sub-agent task: summarize the legacy gamma notes',
};
const D2_SPAWN: SpawnSpec = { key: 'D2c', task: 'Sub-agent task: scratch work to be deleted' };

const MARATHON = Array.from(
  { length: 32 },
  (_, i) => `Alpha marathon step ${i + 1}: refine item ${String.fromCharCode(97 + (i % 26))}`,
);

/**
 * Day one: most threads. Runs in a time zone east of UTC so its files land on another local day
 * than day two's.
 */
function dayOneSteps(): Step[] {
  return [
    { do: 'start', key: 'P1', project: 'alpha' },
    {
      do: 'turns',
      key: 'P1',
      texts: ['Plan the alpha launch checklist', 'Add a kiwi item to the launch checklist'],
    },
    { do: 'name', key: 'P1', name: 'Alpha launch plan' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P2', project: 'alpha', threadSource: 'user' },
    { do: 'turn', key: 'P2', text: 'Summarize the kiwi import logs' },
    { do: 'inject', key: 'P2', text: 'Injected context: the kiwi importer runs nightly' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P3', project: 'beta' },
    {
      do: 'turns',
      key: 'P3',
      texts: [
        'Refactor the beta parser module',
        'Now add unit tests for the parser',
        'Explain the parser error handling',
      ],
    },
    { do: 'name', key: 'P3', name: 'Beta parser refactor' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P4', project: 'beta' },
    {
      do: 'turn',
      key: 'P4',
      text: spawnPrompt('Delegate the beta changelog to helpers', P4_SPAWN),
      spawns: [P4_SPAWN],
    },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P5', project: 'gamma' },
    {
      do: 'turns',
      key: 'P5',
      texts: ['Investigate the gamma build failure', 'Propose a fix for the gamma build'],
    },
    {
      do: 'git',
      key: 'P5',
      gitInfo: {
        sha: '0123456789abcdef0123456789abcdef01234567',
        branch: 'fix/gamma-build',
        originUrl: 'https://example.invalid/acme/gamma-fork.git',
      },
    },
    { do: 'git', key: 'P5', gitInfo: { branch: 'fix/gamma-build-2' } },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P6', project: 'gamma' },
    { do: 'turn', key: 'P6', text: 'Document the gamma release process' },
    { do: 'git', key: 'P6', gitInfo: { sha: null, branch: null, originUrl: null } },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P7', project: 'alpha' },
    { do: 'turns', key: 'P7', texts: MARATHON },
    { do: 'name', key: 'P7', name: 'Alpha marathon' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P8', project: 'cafe' },
    { do: 'turn', key: 'P8', text: 'Unicode check: café ☕ — naïve façade, 日本語, emoji 🚀' },
    { do: 'name', key: 'P8', name: 'Café ☕ 日本語 — ünïcödé' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P9', project: 'beta', modelProvider: 'mock_alt' },
    {
      do: 'turns',
      key: 'P9',
      texts: ['Alt provider: compare beta vendors', 'Alt provider: pick a beta vendor'],
    },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P12', project: 'delta', threadSource: 'nightly-digest' },
    { do: 'turn', key: 'P12', text: 'Automation: nightly delta digest' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'E1', project: 'alpha', ephemeral: true },
    { do: 'turn', key: 'E1', text: 'This ephemeral thread should not be persisted' },
    { do: 'start', key: 'N1', project: 'gamma' },
    { do: 'start', key: 'N2', project: 'delta' },
    { do: 'name', key: 'N2', name: 'Named before any message' },
    { do: 'start', key: 'N3', project: 'gamma' },
    { do: 'git', key: 'N3', gitInfo: { branch: 'metadata-before-message' } },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'P10', project: 'alpha' },
    {
      do: 'turns',
      key: 'P10',
      texts: ['Old experiment with zebra caching', 'Record the zebra caching results'],
    },
    { do: 'name', key: 'P10', name: 'Zebra cache experiment' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'L1', project: 'beta', historyMode: 'legacy' },
    {
      do: 'turns',
      key: 'L1',
      texts: ['Legacy mode: outline the beta migration', 'Legacy mode: list the parser risks'],
    },
    { do: 'name', key: 'L1', name: 'Legacy beta notes' },
    {
      do: 'git',
      key: 'L1',
      gitInfo: {
        sha: 'fedcba9876543210fedcba9876543210fedcba98',
        branch: 'legacy/main',
        originUrl: 'https://example.invalid/acme/beta.git',
      },
    },
    { do: 'git', key: 'L1', gitInfo: { branch: 'legacy/next' } },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'L2', project: 'gamma', historyMode: 'legacy' },
    {
      do: 'turn',
      key: 'L2',
      text: spawnPrompt('Legacy mode: delegate the gamma notes', L2_SPAWN),
      spawns: [L2_SPAWN],
    },
    { do: 'git', key: 'L2', gitInfo: { sha: null, branch: null, originUrl: null } },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'L3', project: 'delta', historyMode: 'legacy' },
    { do: 'turn', key: 'L3', text: 'Legacy mode: delta kiwi inventory' },
    { do: 'inject', key: 'L3', text: 'Injected context: delta inventory is weekly' },
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F1', from: 'P3' },
    { do: 'turn', key: 'F1', text: 'Continue the parser work in a fork' },
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F2', from: 'F1' },
    { do: 'turn', key: 'F2', text: 'Fork of the fork: finish the parser docs' },
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F3', from: 'L1' },
    { do: 'turn', key: 'F3', text: 'Legacy fork: continue the beta migration' },
    { do: 'fork', key: 'F4', from: 'F3' },
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F5', from: 'P7', afterTurn: 5 },
    { do: 'turn', key: 'F5', text: 'Branch off the marathon after step five' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'D1', project: 'alpha' },
    { do: 'turn', key: 'D1', text: 'Scratch thread that will be deleted' },
    { do: 'pause', ms: 1100 },
    { do: 'start', key: 'D2', project: 'beta' },
    {
      do: 'turn',
      key: 'D2',
      text: spawnPrompt('Delegate scratch work', D2_SPAWN),
      spawns: [D2_SPAWN],
    },
    { do: 'readState', key: 'P3', read: false },
    { do: 'readState', key: 'P7', read: true },
  ];
}

/** Day two: a later session on the same home (another local day, another client name). */
function dayTwoSteps(): Step[] {
  return [
    { do: 'resume', key: 'P1' },
    { do: 'turn', key: 'P1', text: 'Final kiwi check before launch' },
    { do: 'name', key: 'P1', name: 'Alpha launch plan (final)' },
    { do: 'readState', key: 'P1', read: true },
    { do: 'name', key: 'P8', name: 'Café ☕ renamed — 日本語 ✓' },
    { do: 'archive', key: 'P10' },
    { do: 'git', key: 'P10', gitInfo: { branch: 'archived/zebra' } },
    { do: 'archive', key: 'L2' },
    { do: 'archive', key: 'P4' },
    { do: 'unarchive', key: 'P4' },
    { do: 'archive', key: 'P6' },
    { do: 'unarchive', key: 'P6' },
    { do: 'delete', key: 'D1' },
    { do: 'delete', key: 'D2' },
    { do: 'resume', key: 'L1' },
    { do: 'turn', key: 'L1', text: 'Legacy mode: day two follow-up on the migration' },
    { do: 'readState', key: 'L1', read: true },
    { do: 'name', key: 'L1', name: 'Legacy beta notes (day two)' },
    { do: 'readState', key: 'L3', read: false },
    { do: 'readState', key: 'P5', read: false },
    { do: 'start', key: 'P11', project: 'gamma' },
    { do: 'turn', key: 'P11', text: 'Second day gamma kiwi question' },
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F6', from: 'P11' },
    { do: 'turn', key: 'F6', text: 'Second day fork of the gamma question' },
  ];
}

/** Day two of the mixed home, run by the newer binary on threads the older one wrote. */
function mixedDayTwoSteps(): Step[] {
  return [
    ...dayTwoSteps(),
    { do: 'pause', ms: 1100 },
    { do: 'fork', key: 'F7', from: 'P3' },
    { do: 'turn', key: 'F7', text: 'Newer Codex forks an older legacy thread' },
    { do: 'resume', key: 'P2' },
    { do: 'turn', key: 'P2', text: 'Newer Codex continues an older thread' },
    { do: 'readState', key: 'P2', read: false },
    { do: 'name', key: 'L3', name: 'Renamed by the newer Codex' },
    { do: 'git', key: 'P9', gitInfo: { branch: 'newer/branch' } },
  ];
}

const PROJECTS = {
  alpha: 'alpha',
  beta: 'beta',
  gamma: 'gamma',
  delta: 'delta',
  cafe: 'café',
};

const ROLES = {
  recent: 'P1',
  renamed: 'P1',
  plain: 'P2',
  injected: 'P2',
  threadSource: 'P2',
  forkSource: 'P3',
  unreadMarked: 'P3',
  parent: 'P4',
  child: 'P4c',
  grandchild: 'P4g',
  unarchivedParent: 'P4',
  metadataUpdated: 'P5',
  metadataCleared: 'P6',
  unarchived: 'P6',
  multiTurn: 'P7',
  readMarked: 'P7',
  unicodeNamed: 'P8',
  altProvider: 'P9',
  customThreadSource: 'P12',
  archived: 'P10',
  archivedMetadataUpdated: 'P10',
  dayTwo: 'P11',
  legacy: 'L1',
  legacyMetadataUpdated: 'L1',
  legacyRenamed: 'L1',
  legacyMetadataCleared: 'L2',
  legacyUnreadMarked: 'L3',
  archivedParent: 'L2',
  archivedChild: 'L2c',
  legacyInjected: 'L3',
  fork: 'F1',
  forkOfFork: 'F2',
  legacyFork: 'F3',
  legacyForkOfFork: 'F4',
  forkAtTurn: 'F5',
  dayTwoFork: 'F6',
  deleted: 'D1',
  deletedParent: 'D2',
  deletedChild: 'D2c',
  ephemeral: 'E1',
  neverMessaged: 'N1',
  namedNeverMessaged: 'N2',
  metadataNeverMessaged: 'N3',
  exec: 'X1',
  cli: 'X2',
};

const PROBES = {
  search: {
    shared: 'kiwi',
    forkFamily: 'parser',
    caseMismatch: 'ALPHA',
    unicode: 'café',
    none: 'no-such-term-xyz',
    empty: '',
  },
  searchArchived: 'zebra',
  cwd: { single: 'alpha', pair: ['beta', 'gamma'], unicode: 'cafe', archived: 'alpha' },
  providers: { default: 'mock', other: 'mock_alt' },
  startProject: 'gamma',
};

const NOTES = [
  'threads are listed in creation order; turnCount includes inherited turns (inheritedTurnCount).',
  'P-keys are paginated where the version has history modes, L-keys were started with historyMode "legacy" (0.131 threads are all legacy).',
  'name is the latest thread name; session_index.jsonl keeps every rename (last line per id wins).',
  'persisted=false threads (E1 ephemeral, N1 never messaged) are not on disk; N2 (name set) and N3 (git metadata set) were touched before any message and may be persisted without a user message.',
  'deleted=true threads were removed by thread/delete (0.169 only) and must not be on disk.',
  'X1 was written by `codex exec` (source exec), X2 by the interactive TUI (source cli) when a pseudo-terminal was available.',
  'day one runs in UTC+14 and day two in UTC-11, so the local dates in rollout file names differ.',
  'mtimes: restore them after copying (git does not keep them); updatedAt of threads comes from them.',
];

const DAY_ONE_TZ = 'Pacific/Kiritimati';
const DAY_TWO_TZ = 'Pacific/Pago_Pago';

function externalRuns(codex: string): Run[] {
  return [
    {
      kind: 'exec',
      label: 'exec1',
      codex,
      tz: DAY_ONE_TZ,
      key: 'X1',
      project: 'alpha',
      prompt: 'Exec run: summarize the alpha kiwi status',
    },
    {
      kind: 'tui',
      label: 'tui1',
      codex,
      tz: DAY_ONE_TZ,
      key: 'X2',
      project: 'beta',
      prompt: 'Interactive run: sketch the beta roadmap',
    },
  ];
}

function scenarioOf(name: string, description: string, runs: Run[]): Scenario {
  return {
    name,
    description,
    projects: PROJECTS,
    gitProject: 'gamma',
    runs,
    roles: ROLES,
    probes: PROBES,
    notes: NOTES,
  };
}

/** One version writes the whole home. */
export function singleVersionScenario(codex: string): Scenario {
  return scenarioOf(`codex-${codex}`, `every run by codex ${codex}`, [
    {
      kind: 'app-server',
      label: 'session1',
      codex,
      tz: DAY_ONE_TZ,
      clientName: 'skein_recorder',
      steps: dayOneSteps(),
    },
    ...externalRuns(codex),
    {
      kind: 'app-server',
      label: 'session2',
      codex,
      tz: DAY_TWO_TZ,
      clientName: 'skein_recorder_day2',
      steps: dayTwoSteps(),
    },
  ]);
}

/** An older version writes day one, a newer one migrates the home and writes day two. */
export function mixedScenario(older: string, newer: string): Scenario {
  return scenarioOf(
    `mixed-${older}-${newer}`,
    `day one by codex ${older}, day two by codex ${newer} on the same home`,
    [
      {
        kind: 'app-server',
        label: 'session1',
        codex: older,
        tz: DAY_ONE_TZ,
        clientName: 'skein_recorder',
        steps: dayOneSteps(),
      },
      ...externalRuns(older),
      {
        kind: 'app-server',
        label: 'session2',
        codex: newer,
        tz: DAY_TWO_TZ,
        clientName: 'skein_recorder_day2',
        steps: mixedDayTwoSteps(),
      },
    ],
  );
}

/** Every home `pnpm record-homes` writes by default, by output folder name. */
export function defaultScenarios(): Scenario[] {
  return [
    singleVersionScenario('0.169.0'),
    singleVersionScenario('0.131.0'),
    mixedScenario('0.131.0', '0.169.0'),
  ];
}
