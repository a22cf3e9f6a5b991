/**
 * Runs the same scripted requests against the real `codex app-server` and Skein's built
 * server, each on its own copy of a fixture home, and returns the normalized exchanges.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureCodexCli,
  type FixtureManifest,
  type FixtureName,
  installFixtureHome,
  makeTempDir,
} from '@skein/test-support';
import { Normalizer } from './normalize.js';
import { type Exchange, type Message, RpcProcess } from './rpc-process.js';

export const SKEIN_MAIN = join(import.meta.dirname, '..', '..', 'dist', 'main.js');

/** Notifications both servers send for the thread API (others, e.g. config warnings, are dropped). */
const COMPARED_NOTIFICATIONS = new Set([
  'thread/started',
  'thread/status/changed',
  'thread/name/updated',
  'thread/archived',
  'thread/unarchived',
  'thread/deleted',
  'thread/closed',
  'deprecationNotice',
]);

/** Methods whose follow-up notifications may come from background tasks. */
const MUTATIONS = new Set([
  'thread/start',
  'thread/resume',
  'thread/fork',
  'thread/archive',
  'thread/unarchive',
  'thread/delete',
  'thread/name/set',
  'thread/unsubscribe',
]);
const SETTLE_MS = 150;

export interface Side {
  readonly name: 'codex' | 'skein';
  readonly proc: RpcProcess;
  readonly home: string;
  readonly norm: Normalizer;
  /** Raw answers by step label (later steps take cursors and ids from them). */
  readonly answers: Map<string, Message>;
}

export interface Step {
  label: string;
  method: string;
  /** Params for this side (omit the function for a request without params). */
  params?: (side: Side) => unknown;
}

export interface StepOutcome {
  step: Step;
  codex: unknown;
  skein: unknown;
  /** Skein's raw messages (for schema validation). */
  skeinRaw: Exchange;
}

export function skeinBuilt(): boolean {
  return existsSync(SKEIN_MAIN);
}

export async function startSide(
  name: 'codex' | 'skein',
  fixture: FixtureName,
  codexVersion: string,
  workdir: string,
  capabilities: Message = {},
): Promise<{ side: Side; manifest: FixtureManifest }> {
  const { home, manifest } = installFixtureHome(fixture);
  const env = { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' };
  const proc =
    name === 'codex'
      ? RpcProcess.spawn(ensureCodexCli(codexVersion).binary, ['app-server'], { env, cwd: workdir })
      : RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: workdir });
  const knownIds = new Set(manifest.threads.flatMap((t) => [t.id, ...t.turnIds]));
  const norm = new Normalizer({
    home,
    workdir,
    knownIds,
    sinceSeconds: Math.floor(Date.now() / 1000),
  });
  await proc.initialize(capabilities, 'skein_diff');
  return { side: { name, proc, home, norm, answers: new Map() }, manifest };
}

/**
 * Runs `run` against one server on `home` — the real codex-cli 0.169.0 or Skein's built one —
 * initialized with the experimental API, and closes it after (also on failure).
 */
export async function withServer<T>(
  side: 'codex' | 'skein',
  home: string,
  clientName: string,
  run: (proc: RpcProcess) => Promise<T>,
): Promise<T> {
  const env = { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' };
  const proc =
    side === 'codex'
      ? RpcProcess.spawn(ensureCodexCli('0.169.0').binary, ['app-server'], { env, cwd: home })
      : RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: home });
  try {
    await proc.initialize({ experimentalApi: true }, clientName);
    return await run(proc);
  } finally {
    await proc.close();
  }
}

export function makeWorkdir(): string {
  const workdir = makeTempDir('skein-diff-work-');
  mkdirSync(join(workdir, 'a'), { recursive: true });
  return workdir;
}

/**
 * Drops a `thread/status/changed` that repeats the status the same exchange already reported
 * for that thread. 0.169.0 sometimes sends `notLoaded` twice (seen archiving a thread renamed
 * while loaded, and, under load, deleting a thread it had just unloaded); a repeat changes
 * nothing for a client. Applied to both sides, so a status Skein leaves out still differs.
 */
function withoutRepeatedStatus(notifications: readonly Message[]): Message[] {
  const reported = new Map<string, string>();
  return notifications.filter((message) => {
    if (message.method !== 'thread/status/changed') return true;
    const params = message.params as { threadId?: unknown; status?: unknown } | undefined;
    const thread = String(params?.threadId);
    const status = JSON.stringify(params?.status);
    if (reported.get(thread) === status) return false;
    reported.set(thread, status);
    return true;
  });
}

function normalizeExchange(side: Side, method: string, exchange: Exchange): unknown {
  const response = exchange.response;
  const answer =
    'error' in response
      ? { error: side.norm.value(response.error) }
      : { result: side.norm.result(method, response.result) };
  const notifications = withoutRepeatedStatus(
    exchange.notifications.filter((m) => COMPARED_NOTIFICATIONS.has(String(m.method))),
  ).map((m) => ({ method: m.method, params: side.norm.value(m.params) }));
  return { ...answer, notifications };
}

/** Runs one step on both sides (codex first). */
export async function runStep(codex: Side, skein: Side, step: Step): Promise<StepOutcome> {
  const results: unknown[] = [];
  let skeinRaw: Exchange | undefined;
  for (const side of [codex, skein]) {
    const params = step.params?.(side);
    const settle = MUTATIONS.has(step.method) ? SETTLE_MS : 0;
    const exchange = await side.proc.exchange(step.method, params, settle);
    side.answers.set(step.label, exchange.response);
    if (side.name === 'skein') skeinRaw = exchange;
    results.push(normalizeExchange(side, step.method, exchange));
  }
  return { step, codex: results[0], skein: results[1], skeinRaw: skeinRaw as Exchange };
}

/** The `result` of an earlier step on this side. */
export function resultOf(side: Side, label: string): Record<string, unknown> {
  const answer = side.answers.get(label);
  // A failed earlier step shows up in its own diff; later steps then run with empty inputs.
  if (answer === undefined || !('result' in answer)) return { thread: {} };
  return answer.result as Record<string, unknown>;
}
