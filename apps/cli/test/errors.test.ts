/**
 * How `skein` fails: `--json` errors are one JSON object on stderr with the same exit codes as
 * the plain ones; a home this user cannot write gets plain words ("cannot write <path>:
 * permission denied"), never an internal error, and `backfill` says why it cannot run. The
 * permission cases run the built CLI as a real process as an unprivileged user (root may
 * write anything), on a fixture home made read-only.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixture, skein, thread } from './helpers.js';

interface JsonError {
  error: { code: string; message: string; exitCode: number; details?: string[] };
}

function jsonError(stderr: string): JsonError {
  const lines = stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as JsonError;
}

describe('--json errors', () => {
  let home: string;
  beforeAll(() => {
    ({ home } = fixture('codex-0.169'));
  });

  it('are JSON on stderr with the plain exit codes', async () => {
    const cases: [string[], number, string, RegExp][] = [
      [['list', '--bogus'], 2, 'Usage', /unknown option '--bogus'/],
      [['list', '--limit', '0'], 2, 'Usage', /expected a whole number from 1 to 100/],
      [['show', 'no-such-thread'], 3, 'NotFound', /no-such-thread/],
      [['frobnicate'], 2, 'Usage', /unknown command 'frobnicate'/],
    ];
    for (const [args, code, kind, message] of cases) {
      const plain = await skein(args, { home });
      const json = await skein([...args, '--json'], { home });
      expect(plain.code, args.join(' ')).toBe(code);
      expect(json.code, args.join(' ')).toBe(code);
      expect(json.stdout).toBe('');
      const parsed = jsonError(json.stderr);
      expect(parsed.error).toMatchObject({ code: kind, exitCode: code });
      expect(parsed.error.message).toMatch(message);
      expect(plain.stderr).toMatch(message);
      expect(() => JSON.parse(plain.stderr)).toThrow();
    }
  });

  it('carry details (an ambiguous prefix lists its candidates)', async () => {
    const { manifest } = fixture('codex-0.169');
    const ids = manifest.threads.filter((t) => t.persisted).map((t) => t.id);
    const prefix = ids[0]!.slice(0, 4);
    const result = await skein(['show', prefix, '--json'], { home });
    expect(result.code).toBe(2);
    const parsed = jsonError(result.stderr);
    expect(parsed.error.code).toBe('Usage');
    expect(parsed.error.details?.length ?? 0).toBeGreaterThan(1);
  });
});

/** Every file and directory under `dir`, read-only (directories stay listable). */
function makeReadOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeReadOnly(path);
    else chmodSync(path, 0o444);
  }
  chmodSync(dir, 0o555);
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(path);
    else chmodSync(path, 0o644);
  }
}

/** The built CLI as a real process, as an unprivileged user when this is root. */
function skeinAsUser(home: string, args: readonly string[]) {
  const argv = [process.execPath, CLI, '--codex-home', home, ...args];
  const asRoot = process.getuid?.() === 0;
  const run = spawnSync(
    asRoot ? 'runuser' : argv[0]!,
    asRoot ? ['-u', 'nobody', '--', ...argv] : argv.slice(1),
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' },
      timeout: 60_000,
    },
  );
  if (run.error) throw run.error;
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

describe('a home this user cannot write', () => {
  let home: string;
  let id: string;
  beforeAll(() => {
    const installed = fixture('codex-0.169');
    home = installed.home;
    id = thread(installed.manifest, 'plain').id;
    makeReadOnly(home);
  });
  afterAll(() => {
    makeWritable(home);
    removeTempDir(home);
  });

  it('is still listed and shown, with one plain warning', () => {
    const list = skeinAsUser(home, ['list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((t) => t.id)).toContain(id);
    expect(list.stderr).toContain(
      `warning: cannot write ${join(home, 'state_5.sqlite')}: permission denied; continuing without the state index`,
    );
    expect(skeinAsUser(home, ['show', id, '--metadata-only']).code).toBe(0);
  });

  it('refuses writes in plain words, never as an internal error', () => {
    const rename = skeinAsUser(home, ['rename', id, 'New name']);
    expect(rename.code).toBe(1);
    expect(rename.stderr).toMatch(/error: cannot write \/\S+: permission denied\n/);
    expect(rename.stderr).not.toMatch(/internal error|EACCES/);
    const json = skeinAsUser(home, ['archive', id, '--json']);
    expect(json.code).toBe(1);
    const parsed = jsonError(json.stderr);
    expect(parsed.error.code).toBe('Failure');
    expect(parsed.error.message).toMatch(/^cannot write \/\S+: permission denied$/);
  });

  it('backfill says why it cannot run', () => {
    const result = skeinAsUser(home, ['backfill']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: skein backfill cannot build the index: cannot write ${join(home, 'state_5.sqlite')}: permission denied`,
    );
  });
});
