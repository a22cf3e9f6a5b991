import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { SampleReport } from '../src/sample.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeTempDir(dir);
});

function runSample(args: string[], env: NodeJS.ProcessEnv = {}) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm build first`);
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function rollouts(home: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.startsWith('rollout-')) found.push(path);
    }
  };
  walk(join(home, 'sessions'));
  return found.sort();
}

function lines(path: string): { type: string; payload: Record<string, unknown> }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describe('the built sample, as a real process', () => {
  it('starts, records, resumes, forks, renames and lists in the given home (--json)', () => {
    const home = makeTempDir('skein-sample-home-');
    const cwd = makeTempDir('skein-sample-cwd-');
    dirs.push(home, cwd);
    const run = runSample([
      '--codex-home',
      home,
      '--cwd',
      cwd,
      '--message',
      'What is in this repo?',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as SampleReport & { codexHome: string };
    const id = report.started.threadId;

    expect(report.started.existsBeforeFirstTurn).toBe(false);
    expect(report.recorded).toMatchObject({ items: 8, existsAfterTurn: true, status: 'idle' });
    expect(report.resumed).toMatchObject({ threadId: id, sameHistory: true, alreadyLoaded: false });
    expect(report.forked.forkedFromId).toBe(id);
    expect(report.renamed).toEqual({ threadId: id, name: 'Sample: What is in this repo?' });
    expect(report.listed.map((item) => item.threadId).sort()).toEqual(
      [id, report.forked.threadId].sort(),
    );

    // The files: two rollouts, the original's in the legacy line format.
    const files = rollouts(home);
    expect(files).toEqual([report.started.rolloutPath, report.forked.rolloutPath].sort());
    const original = lines(report.started.rolloutPath ?? '');
    expect(original[0]).toMatchObject({ type: 'session_meta', payload: { id, cwd } });
    const events = original
      .filter((line) => line.type === 'event_msg')
      .map((line) => line.payload.type);
    expect(events).toEqual([
      'task_started',
      'user_message',
      'agent_message',
      'token_count',
      'task_complete',
    ]);
    expect(original.find((line) => line.payload.type === 'user_message')?.payload.message).toBe(
      'What is in this repo?',
    );
    const fork = lines(report.forked.rolloutPath ?? '');
    expect(fork[0]).toMatchObject({
      type: 'session_meta',
      payload: { id: report.forked.threadId, forked_from_id: id },
    });
    const index = readFileSync(join(home, 'session_index.jsonl'), 'utf8');
    expect(index).toContain(`"id":"${id}","thread_name":"Sample: What is in this repo?"`);
    // Codex's own state DB (created from Codex's recorded schema) and Skein's sidecar.
    const dbFiles = readdirSync(home).filter((name) => name.endsWith('.sqlite'));
    expect(dbFiles.sort()).toEqual(['skein_1.sqlite', 'state_5.sqlite']);
  });

  it('honours CODEX_HOME and prints a readable report', () => {
    const home = makeTempDir('skein-sample-env-');
    dirs.push(home);
    const run = runSample(['--message', 'hello'], { CODEX_HOME: home });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Codex home: ${home}`);
    expect(run.stdout).toMatch(/^resumed {3}\S+ from \d+ history items \(same history: yes\)$/m);
    expect(run.stdout).toContain('renamed');
    expect(rollouts(home)).toHaveLength(2);
  });
});
