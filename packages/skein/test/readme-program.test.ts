/** The README's program is at most 10 lines and does what the README says, run as is. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { openCodexHome } from '../src/index.js';
import { readmeProgram, runReadmeProgram } from './readme-program.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeTempDir(dir);
});

describe('the README program', () => {
  it('is at most 10 lines', () => {
    const lines = readmeProgram().trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(10);
  });

  it('creates the home, writes both messages, reads them back and lists the thread', async () => {
    const project = makeTempDir('skein-readme-');
    dirs.push(project);
    const run = runReadmeProgram(project);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'user: What is a skein?',
      'assistant: A loosely coiled length of yarn.',
    ]);
    expect(lines).toHaveLength(3);
    const [id, ...preview] = lines[2]!.split(' ');
    expect(preview.join(' ')).toBe('What is a skein?');

    // What it wrote is a Codex home another handle reads.
    const home = await openCodexHome(join(project, 'codex-home'), { create: false });
    try {
      const read = await home.threads.read(id as never);
      expect(read.messages.map((m) => m.text)).toEqual([
        'What is a skein?',
        'A loosely coiled length of yarn.',
      ]);
      expect(read.cwd).toBe(project);
    } finally {
      await home.close();
    }
  });

  it('adds a paginated thread to an existing Codex 0.169 home', () => {
    const project = makeTempDir('skein-readme-');
    dirs.push(project);
    // The fixture becomes the project's ./codex-home.
    installFixtureHome('codex-0.169', join(project, 'codex-home'));
    const run = runReadmeProgram(project);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'user: What is a skein?',
      'assistant: A loosely coiled length of yarn.',
    ]);
    // Newest first: the new thread, then Codex's own threads.
    expect(lines.length).toBeGreaterThan(3);
    expect(existsSync(join(project, 'codex-home', 'thread_history_1.sqlite'))).toBe(true);
  });
});
