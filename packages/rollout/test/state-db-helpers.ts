import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newThreadId, type ThreadId } from '@skein/state';

export interface WrittenThread {
  id: ThreadId;
  path: string;
  /** Home-relative path (the backfill watermark). */
  rel: string;
  archived: boolean;
  preview: string;
  cwd: string;
  mtimeMs: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Writes one legacy-format rollout (what codex 0.131 writes). */
export function writeLegacyRollout(
  home: string,
  options: {
    index: number;
    archived?: boolean;
    userMessage?: string | null;
    cwd?: string;
    idMs?: number;
    /** The session meta's git block. */
    git?: { commit_hash?: string; branch?: string; repository_url?: string };
  },
): WrittenThread {
  const startMs = options.idMs ?? Date.UTC(2025, 2, 1) + options.index * 61_000;
  const id = newThreadId(startMs);
  const d = new Date(startMs);
  const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
  const name = `rollout-${stamp}-${id}.jsonl`;
  const rel = options.archived
    ? `archived_sessions/${name}`
    : `sessions/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${name}`;
  const path = join(home, rel);
  const cwd = options.cwd ?? `/home/dev/projects/p${options.index % 3}`;
  const ts = new Date(startMs).toISOString();
  const message =
    options.userMessage === undefined ? `Hello thread ${options.index}` : options.userMessage;
  const lines: unknown[] = [
    {
      timestamp: ts,
      type: 'session_meta',
      payload: {
        ...(options.git === undefined ? {} : { git: options.git }),
        id,
        timestamp: ts,
        cwd,
        originator: 'codex_cli_rs',
        cli_version: '0.131.0',
        source: 'cli',
        model_provider: 'openai',
      },
    },
    {
      timestamp: ts,
      type: 'turn_context',
      payload: {
        cwd,
        approval_policy: 'never',
        sandbox_policy: { type: 'read-only' },
        model: 'gpt-5',
        effort: 'high',
        summary: 'auto',
      },
    },
  ];
  if (message !== null) {
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: { type: 'user_message', message, images: [], local_images: [] },
    });
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: { type: 'agent_message', message: `Reply ${options.index}` },
    });
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const mtimeMs = startMs + 30_000;
  utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
  return {
    id,
    path,
    rel,
    archived: options.archived ?? false,
    preview: message ?? '',
    cwd,
    mtimeMs,
  };
}

export function writeLegacyHome(home: string, count: number): WrittenThread[] {
  return Array.from({ length: count }, (_, index) =>
    writeLegacyRollout(home, { index, archived: index % 7 === 6 }),
  );
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'state-db-child.mjs');

/** Runs `state-db-child.mjs` (which uses the built dist/) with line-wise stdout. */
export function startChild(args: string[]): {
  child: ChildProcess;
  lines: string[];
  waitFor: (pred: (line: string) => boolean, ms?: number) => Promise<string>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.pred(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pred: (line: string) => boolean, ms = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit !== undefined) return resolve(hit);
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `child did not print the expected line in ${ms} ms; stdout: ${lines.join(' / ')}; stderr: ${stderr}`,
            ),
          ),
        ms,
      );
      waiters.push({
        pred,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then(() =>
        setTimeout(
          () => reject(new Error(`child exited; stdout: ${lines.join(' / ')}; stderr: ${stderr}`)),
          50,
        ),
      );
    });
  return { child, lines, waitFor, exited };
}
