/**
 * MANIFEST.json of a recorded home, in the schema of the shared fixtures (fixtures.ts reads
 * it), plus fields the older fixtures lack: per-thread `historyMode`, `modelProvider`,
 * `threadSource`, `readState`, `deleted`, `turns`, what the census answered (`observed.api`)
 * and what the files say (`observed`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listFiles,
  normalizeText,
  PLACEHOLDER_HOME,
  PLACEHOLDER_ROOT,
  type WrittenHome,
  withDatabase,
} from './home-writer.js';
import type { GitProject, RecordingState } from './recording-state.js';
import { MODEL, PROVIDERS } from './scenario-types.js';
import type { GitInfo, ThreadRecord } from './thread-book.js';

export interface ManifestThreadEntry {
  key: string;
  id: string;
  project: string;
  cwd: string;
  name: string | null;
  archived: boolean;
  ephemeral: boolean;
  persisted: boolean;
  deleted: boolean;
  historyMode: string | null;
  source: string | null;
  modelProvider: string | null;
  threadSource: string | null;
  preview: string | null;
  turnCount: number;
  inheritedTurnCount: number;
  turnIds: string[];
  userMessages: string[];
  agentMessages: string[];
  turns: { id: string; userMessages: string[]; agentMessages: string[] }[];
  forkedFromKey: string | null;
  forkedFromId: string | null;
  parentKey: string | null;
  parentThreadId: string | null;
  agentNickname: string | null;
  gitInfo: GitInfo | null;
  readState: unknown;
  createdBy: string;
  createdIn: string;
  actions: string[];
  observed: Record<string, unknown>;
}

export interface RecordedManifest {
  format: number;
  generator: string;
  codexVersion: string;
  codexVersions: string[];
  codexPackage: string;
  rolloutFormat: string;
  scenario: string;
  scenarioDescription: string;
  sessions: number;
  runs: { label: string; kind: string; codex: string; tz: string; clientName?: string }[];
  modelProvider: string;
  modelProviders: string[];
  model: string;
  configToml: string;
  generatedAt: string;
  codexHome: string;
  projects: Record<string, string>;
  git: GitProject;
  notes: string[];
  checkProblems: string[];
  apiDifferences: string[];
  skippedSteps: { run: string; step: string; reason: string }[];
  censusBy: string;
  roles: Record<string, string>;
  probes: Record<string, unknown>;
  threads: ManifestThreadEntry[];
  mtimes: Record<string, number>;
  files: Record<string, { size: number; sha256: string }>;
  skippedHomeFiles: string[];
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** `thread.source` on the wire is a string or `{subAgent: …}`; the manifest keeps a kind. */
export function sourceKind(source: unknown): string | null {
  if (typeof source === 'string') return source;
  const object = asObject(source);
  const sub = asObject(object.subAgent ?? object.subagent);
  if (Object.keys(sub).length > 0) {
    if ('thread_spawn' in sub || 'threadSpawn' in sub) return 'subAgentThreadSpawn';
    return 'subAgent';
  }
  return source === null || source === undefined ? null : JSON.stringify(source);
}

interface DiskView {
  rollouts: Map<string, string>;
  threads: Map<string, Record<string, unknown>>;
  columns: Set<string>;
  receipts: Map<string, Record<string, unknown>>;
  historyTurns: Map<string, number>;
  sessionIndex: Map<string, string>;
}

/** What the written home holds, read back from the output folder. */
function readDisk(outDir: string): DiskView {
  const rollouts = new Map<string, string>();
  for (const rel of listFiles(outDir)) {
    const match =
      /rollout-.*-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/.exec(rel);
    if (match && (rel.startsWith('sessions/') || rel.startsWith('archived_sessions/'))) {
      rollouts.set(match[1]!, rel);
    }
  }
  const threads = new Map<string, Record<string, unknown>>();
  const receipts = new Map<string, Record<string, unknown>>();
  const historyTurns = new Map<string, number>();
  let columns = new Set<string>();
  const stateDb = join(outDir, 'state_5.sqlite');
  if (existsSync(stateDb)) {
    withDatabase(stateDb, (db) => {
      columns = new Set(
        (db.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name),
      );
      for (const row of db.prepare('SELECT * FROM threads').all() as Record<string, unknown>[]) {
        threads.set(String(row.id), row);
      }
      const hasReceipts = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='thread_read_receipts'")
        .get();
      if (hasReceipts) {
        for (const row of db.prepare('SELECT * FROM thread_read_receipts').all() as Record<
          string,
          unknown
        >[]) {
          receipts.set(String(row.thread_id), row);
        }
      }
    });
  }
  const historyDb = join(outDir, 'thread_history_1.sqlite');
  if (existsSync(historyDb)) {
    withDatabase(historyDb, (db) => {
      const rows = db
        .prepare('SELECT thread_id, count(*) AS n FROM thread_turns GROUP BY thread_id')
        .all() as { thread_id: string; n: number }[];
      for (const row of rows) historyTurns.set(row.thread_id, row.n);
    });
  }
  const sessionIndex = new Map<string, string>();
  const indexPath = join(outDir, 'session_index.jsonl');
  if (existsSync(indexPath)) {
    for (const line of readFileSync(indexPath, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = asObject(JSON.parse(line));
      if (typeof entry.id === 'string' && typeof entry.thread_name === 'string') {
        sessionIndex.set(entry.id, entry.thread_name);
      }
    }
  }
  return { rollouts, threads, columns, receipts, historyTurns, sessionIndex };
}

function observe(outDir: string, disk: DiskView, id: string): Record<string, unknown> {
  const rel = disk.rollouts.get(id) ?? null;
  let rolloutLines: number | null = null;
  let rolloutFormat: string | null = null;
  if (rel) {
    const lines = readFileSync(join(outDir, rel), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    rolloutLines = lines.length;
    rolloutFormat =
      lines[0] && 'ordinal' in asObject(JSON.parse(lines[0])) ? 'paginated' : 'legacy';
  }
  const row = disk.threads.get(id);
  const column = (name: string) => (row && disk.columns.has(name) ? (row[name] ?? null) : null);
  const receipt = disk.receipts.get(id);
  return {
    rolloutFile: rel,
    rolloutFormat,
    rolloutLines,
    inArchivedSessions: rel ? rel.startsWith('archived_sessions/') : null,
    dbRow: row !== undefined,
    dbArchived: row ? row.archived === 1 : null,
    dbName: column('name'),
    dbTitle: column('title'),
    dbPreview: column('preview'),
    dbHistoryMode: column('history_mode'),
    dbModelProvider: column('model_provider'),
    dbSource: column('source'),
    dbThreadSource: column('thread_source'),
    dbOriginator: column('originator'),
    dbRolloutPath: column('rollout_path'),
    dbGit: row
      ? {
          sha: column('git_sha'),
          branch: column('git_branch'),
          originUrl: column('git_origin_url'),
        }
      : null,
    sessionIndexName: disk.sessionIndex.get(id) ?? null,
    readReceipt: receipt
      ? {
          firstUnreadTurn: receipt.first_unread_turn ?? null,
          lastPublishedTurn: receipt.last_published_turn ?? null,
        }
      : null,
    historyTurnRows: disk.historyTurns.get(id) ?? null,
  };
}

function apiSummary(state: RecordingState, key: string): Record<string, unknown> | null {
  const entry = state.census.get(key);
  if (!entry) return null;
  if (!entry.read) return { error: entry.readError ?? 'no answer' };
  const thread = asObject(entry.read.thread);
  return {
    name: thread.name ?? null,
    preview: thread.preview ?? null,
    historyMode: thread.historyMode ?? null,
    modelProvider: thread.modelProvider ?? null,
    source: sourceKind(thread.source),
    threadSource: thread.threadSource ?? null,
    originator: thread.originator ?? null,
    agentNickname: thread.agentNickname ?? null,
    agentRole: thread.agentRole ?? null,
    gitInfo: thread.gitInfo ?? null,
    forkedFromId: thread.forkedFromId ?? null,
    parentThreadId: thread.parentThreadId ?? null,
    createdAt: thread.createdAt ?? null,
    updatedAt: thread.updatedAt ?? null,
    recencyAt: thread.recencyAt ?? null,
    readState: entry.read.readState ?? null,
    turnCount: entry.turns ? entry.turns.length : null,
    ...(entry.turnsError ? { turnsError: entry.turnsError } : {}),
  };
}

function threadEntry(
  state: RecordingState,
  outDir: string,
  disk: DiskView,
  record: ThreadRecord,
): ManifestThreadEntry {
  const turns = state.book.allTurns(record);
  const api = apiSummary(state, record.key);
  const apiThread = asObject(state.census.get(record.key)?.read?.thread);
  const firstUser = turns.find((turn) => turn.userMessages.length > 0)?.userMessages[0];
  const preview = record.forkedFromId !== null ? record.preview : (firstUser ?? null);
  const text = (value: string) => normalizeText(value, state.root);
  return {
    key: record.key,
    id: record.id,
    project: record.project,
    cwd: text(record.cwd),
    name: record.name,
    archived: record.archived,
    ephemeral: record.ephemeral,
    persisted: record.persisted && !record.deleted,
    deleted: record.deleted,
    historyMode:
      record.historyMode ?? (typeof api?.historyMode === 'string' ? api.historyMode : null),
    source: sourceKind(record.source) ?? (api?.source as string | null) ?? null,
    modelProvider: record.modelProvider ?? (apiThread.modelProvider as string | undefined) ?? null,
    threadSource: record.threadSource ?? (apiThread.threadSource as string | undefined) ?? null,
    preview: preview ?? (record.persisted ? '' : null),
    turnCount: turns.length,
    inheritedTurnCount: record.inherited.length,
    turnIds: turns.map((turn) => turn.id),
    userMessages: turns.flatMap((turn) => turn.userMessages.slice(0, 1)),
    agentMessages: turns.flatMap((turn) => turn.agentMessages),
    turns: turns.map((turn) => ({
      id: turn.id,
      userMessages: turn.userMessages,
      agentMessages: turn.agentMessages,
    })),
    forkedFromKey: record.forkedFromKey,
    forkedFromId: record.forkedFromId,
    parentKey: record.parentKey,
    parentThreadId: record.parentThreadId,
    agentNickname:
      (apiThread.agentNickname as string | undefined) ??
      (disk.threads.get(record.id)?.agent_nickname as string | undefined) ??
      null,
    gitInfo: record.gitInfo,
    readState: api && 'readState' in api ? api.readState : record.readState,
    createdBy: record.createdBy,
    createdIn: record.createdIn,
    actions: record.actions.map(text),
    observed: { ...observe(outDir, disk, record.id), api },
  };
}

export function buildManifest(state: RecordingState, written: WrittenHome): RecordedManifest {
  const { scenario } = state;
  const outDir = written.outDir;
  const disk = readDisk(outDir);
  const versions = [...new Set(scenario.runs.map((run) => run.codex))];
  const last = scenario.runs.at(-1)?.codex ?? versions[0] ?? '';
  const threads = state.book.threads.map((record) => threadEntry(state, outDir, disk, record));
  const formats = new Set(
    threads.map((thread) => thread.observed.rolloutFormat).filter((format) => format !== null),
  );
  const projects = Object.fromEntries(
    Object.entries(scenario.projects).map(([key, dir]) => [
      key,
      `${PLACEHOLDER_ROOT}/projects/${dir}`,
    ]),
  );
  const keys = new Set(threads.map((thread) => thread.key));
  return {
    format: 2,
    generator:
      'Skein home recorder (packages/test-support/src/recorder): real codex app-server driven over JSON-RPC (stdio) with a scripted Responses API on loopback',
    codexVersion: last,
    codexVersions: versions,
    codexPackage: `@openai/codex@${last}`,
    // The default format of the home: one version's own, or `mixed` when versions took turns.
    rolloutFormat:
      versions.length > 1 ? 'mixed' : formats.has('paginated') ? 'paginated' : 'legacy',
    scenario: scenario.name,
    scenarioDescription: scenario.description,
    sessions: scenario.runs.filter((run) => run.kind === 'app-server').length,
    runs: scenario.runs.map((run) => ({
      label: run.label,
      kind: run.kind,
      codex: run.codex,
      tz: run.tz,
      ...(run.kind === 'app-server' ? { clientName: run.clientName } : {}),
    })),
    modelProvider: PROVIDERS[0],
    modelProviders: [...PROVIDERS],
    model: MODEL,
    configToml: state.configToml.replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:{port}'),
    generatedAt: state.startedAt.toISOString(),
    codexHome: PLACEHOLDER_HOME,
    projects,
    git: state.git,
    notes: scenario.notes,
    checkProblems: [...state.problems, ...written.problems].map((problem) =>
      normalizeText(problem, state.root),
    ),
    apiDifferences: state.apiDifferences.map((line) => normalizeText(line, state.root)),
    skippedSteps: state.skippedSteps.map((step) => ({
      ...step,
      step: normalizeText(step.step, state.root),
      reason: normalizeText(step.reason, state.root),
    })),
    censusBy: state.censusVersion,
    roles: Object.fromEntries(Object.entries(scenario.roles).filter(([, key]) => keys.has(key))),
    probes: scenario.probes,
    threads,
    mtimes: written.mtimes,
    files: written.files,
    skippedHomeFiles: written.skippedHomeFiles,
  };
}
