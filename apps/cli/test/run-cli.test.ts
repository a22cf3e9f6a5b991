/**
 * `runCli` as a function: every run takes its environment, working directory and streams from
 * its options, so runs in one process neither see nor change each other's.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { fixture, skein, thread } from './helpers.js';

describe('runCli', () => {
  it('resolves relative paths against its cwd option, not the process working directory', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const plain = thread(manifest, 'plain');
    const work = makeTempDir('skein-run-cwd-');
    mkdirSync(join(work, 'out'));
    const before = process.cwd();
    const exported = await skein(
      ['--codex-home', home, 'export', plain.id, '-o', join('out', 'one.json')],
      { cwd: work },
    );
    expect(exported.code).toBe(0);
    expect(process.cwd()).toBe(before);
    expect(existsSync(join(work, 'out', 'one.json'))).toBe(true);
    expect(existsSync(join(before, 'out', 'one.json'))).toBe(false);
    const bundle = JSON.parse(readFileSync(join(work, 'out', 'one.json'), 'utf8')) as {
      rootThreadId: string;
    };
    expect(bundle.rootThreadId).toBe(plain.id);

    // An import of that relative file into a home named relative to `work` (created there).
    const imported = await skein(['--codex-home', 'imported', 'import', 'out/one.json'], {
      cwd: work,
    });
    expect(imported.code).toBe(0);
    expect(existsSync(join(work, 'imported', 'sessions'))).toBe(true);
  });

  it('reads CODEX_HOME from its env option only, and leaves process.env alone', async () => {
    const first = fixture('codex-0.169');
    const second = fixture('codex-0.131');
    const codexHomeBefore = process.env.CODEX_HOME;
    const listIds = async (home: string) => {
      const result = await skein(['list', '--json'], { env: { CODEX_HOME: home } });
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as { id: string }[]).map((t) => t.id);
    };
    const [a, b] = await Promise.all([listIds(first.home), listIds(second.home)]);
    expect(a).toContain(thread(first.manifest, 'plain').id);
    expect(b).toContain(thread(second.manifest, 'plain').id);
    expect(a.some((id) => b.includes(id))).toBe(false);
    expect(process.env.CODEX_HOME).toBe(codexHomeBefore);
  });
});
