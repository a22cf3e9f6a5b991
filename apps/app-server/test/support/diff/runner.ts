/**
 * Plays a request sequence against the real `codex app-server` and Skein's built server, each
 * on its own fresh copy of the same home, in lockstep (one step on both, then the next), and
 * records every response and notification of every step, in arrival order.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, makeTempDir, removeTempDir } from '@skein/test-support';
import { type Message, RpcProcess } from '../rpc-process.js';
import { resolveTemplate, type Step, UnresolvedRef, valueAt } from './sequence.js';

/** Skein's built server; `SKEIN_DIFF_SERVER` points at another build (e.g. to measure a baseline). */
export const SKEIN_MAIN =
  process.env.SKEIN_DIFF_SERVER ?? join(import.meta.dirname, '..', '..', '..', 'dist', 'main.js');
export const SIDES = ['codex', 'skein'] as const;
export type SideName = (typeof SIDES)[number];

/** Methods that change something: their follow-up notifications may come from background tasks. */
const READ_ONLY = new Set([
  'thread/list',
  'thread/read',
  'thread/turns/list',
  'thread/items/list',
  'thread/loaded/list',
]);
const SETTLE_MS = 120;
const STARTUP_SETTLE_MS = 300;

export interface RecordedNotification {
  method: string;
  params: unknown;
  emittedAtMs?: unknown;
  /** Arrived before the step's response (e.g. `thread/status/changed` ahead of a resume). */
  beforeResponse: boolean;
}

export interface SideRecord {
  /** Params as sent (after refs were filled in); absent when sent without params. */
  params?: unknown;
  /** Why the step was not sent to this side (an earlier answer it needed was missing). */
  skipped?: string;
  response?: Message;
  notifications: RecordedNotification[];
}

export interface StepRecord {
  label: string;
  kind: string;
  role: string | null;
  method: string;
  /** The step this page belongs to (pages repeat one step). */
  stepLabel: string;
  codex: SideRecord;
  skein: SideRecord;
}

export interface Recording {
  steps: StepRecord[];
  /** Unix ms when the servers started and when the last step was answered. */
  startedAtMs: number;
  finishedAtMs: number;
  homes: Record<SideName, string>;
  workdir: string;
}

export interface ServerSide {
  name: SideName;
  proc: RpcProcess;
  home: string;
  /** Raw answers by label (refs read them). */
  answers: Map<string, unknown>;
}

export interface RunOptions {
  /** Makes a fresh copy of the home under test; called once per side. */
  installHome: () => string;
  codexVersion?: string;
  workdir?: string;
  /** Progress lines (e.g. `process.stderr.write`). */
  log?: (line: string) => void;
}

export function skeinBuilt(): boolean {
  return existsSync(SKEIN_MAIN);
}

export function makeWorkdir(): string {
  const workdir = makeTempDir('skein-diff-work-');
  mkdirSync(join(workdir, 'a'), { recursive: true });
  return workdir;
}

async function startSide(
  name: SideName,
  home: string,
  workdir: string,
  codexVersion: string,
): Promise<ServerSide> {
  const env = { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' };
  const proc =
    name === 'codex'
      ? RpcProcess.spawn(ensureCodexCli(codexVersion).binary, ['app-server'], { env, cwd: workdir })
      : RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: workdir });
  // Experimental params (parentThreadId, ...) and methods (readState) are part of the sequence.
  await proc.initialize({ experimentalApi: true }, 'skein_diff');
  // What a server announces on its own at startup (0.169.0: a sandbox configWarning and the
  // remote-control status) belongs to no step: let it arrive before the first one.
  await proc.request('thread/loaded/list', {});
  await new Promise((resolve) => setTimeout(resolve, STARTUP_SETTLE_MS));
  return { name, proc, home, answers: new Map() };
}

/** One request plus every notification up to a barrier request's answer. */
async function exchange(side: ServerSide, method: string, params: unknown): Promise<SideRecord> {
  const start = side.proc.received.length;
  const response = await side.proc.request(method, params);
  if (!READ_ONLY.has(method)) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const barrier = await side.proc.request('thread/loaded/list', {});
  const messages = side.proc.received.slice(start);
  const responseAt = messages.indexOf(response);
  const barrierAt = messages.indexOf(barrier);
  const notifications: RecordedNotification[] = [];
  messages.forEach((message, index) => {
    if (typeof message.method !== 'string' || 'id' in message) return;
    if (barrierAt >= 0 && index > barrierAt) return;
    notifications.push({
      method: message.method,
      params: message.params,
      ...('emittedAtMs' in message ? { emittedAtMs: message.emittedAtMs } : {}),
      beforeResponse: index < responseAt,
    });
  });
  return { ...(params === undefined ? {} : { params }), response, notifications };
}

async function playOnSide(
  side: ServerSide,
  step: Step,
  label: string,
  cursor: unknown,
): Promise<SideRecord> {
  let params: unknown;
  try {
    params = resolveTemplate(step.params, side.answers);
  } catch (error) {
    if (error instanceof UnresolvedRef)
      return { skipped: `missing ${error.message}`, notifications: [] };
    throw error;
  }
  if (cursor !== undefined) params = { ...(params as object), cursor };
  const record = await exchange(side, step.method, params);
  side.answers.set(label, record.response);
  return record;
}

/** Plays one step (all its pages) on both sides. */
async function playStep(sides: readonly ServerSide[], step: Step): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  const pages = step.pages;
  if (pages === undefined) {
    const [codex, skein] = await Promise.all(
      sides.map((s) => playOnSide(s, step, step.label, undefined)),
    );
    records.push({
      label: step.label,
      kind: step.kind,
      role: step.role,
      method: step.method,
      stepLabel: step.label,
      codex: codex as SideRecord,
      skein: skein as SideRecord,
    });
    return records;
  }
  const done = new Set<SideName>();
  for (let page = 1; page <= pages.max; page += 1) {
    const label = `${step.label} #${page}`;
    const previous = `${step.label} #${page - 1}`;
    const results = await Promise.all(
      sides.map(async (side) => {
        if (done.has(side.name))
          return { skipped: 'no further page', notifications: [] } as SideRecord;
        let cursor: unknown;
        if (page > 1) {
          cursor = valueAt(side.answers.get(previous), pages.cursorPath);
          if (cursor === null || cursor === undefined) {
            done.add(side.name);
            return { skipped: 'no further page', notifications: [] } as SideRecord;
          }
        }
        const record = await playOnSide(side, step, label, cursor);
        side.answers.set(`${step.label} #last`, record.response);
        if (record.skipped !== undefined) done.add(side.name);
        return record;
      }),
    );
    if (done.size === sides.length && results.every((r) => r.skipped !== undefined)) break;
    const [codex, skein] = results as [SideRecord, SideRecord];
    records.push({
      label,
      kind: step.kind,
      role: step.role,
      method: step.method,
      stepLabel: step.label,
      codex,
      skein,
    });
  }
  return records;
}

/** Runs the whole sequence; the homes and work dir are removed afterwards. */
export async function runSequence(
  makeSequence: (workdir: string) => Step[],
  options: RunOptions,
): Promise<Recording> {
  const workdir = options.workdir ?? makeWorkdir();
  const codexVersion = options.codexVersion ?? '0.169.0';
  const homes = { codex: options.installHome(), skein: options.installHome() };
  const sequence = makeSequence(workdir);
  const startedAtMs = Date.now();
  const sides = await Promise.all(
    SIDES.map((name) => startSide(name, homes[name], workdir, codexVersion)),
  );
  const steps: StepRecord[] = [];
  try {
    for (const [index, step] of sequence.entries()) {
      if (index % 50 === 0) options.log?.(`step ${index + 1}/${sequence.length}: ${step.label}`);
      steps.push(...(await playStep(sides, step)));
    }
  } finally {
    await Promise.all(sides.map((side) => side.proc.close()));
  }
  return { steps, startedAtMs, finishedAtMs: Date.now(), homes, workdir };
}

export function cleanupRecording(recording: Recording): void {
  for (const home of Object.values(recording.homes)) removeTempDir(home);
  removeTempDir(recording.workdir);
}
