/**
 * The built entrypoint: honours CODEX_HOME, serves stdio, and exits cleanly on stdin EOF and
 * on SIGTERM after flushing — a thread renamed just before the exit is on disk afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, removeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';
import { RpcProcess } from './support/rpc-process.js';

describe('main entrypoint', () => {
  it('serves the given CODEX_HOME and exits 0 on stdin EOF with writes flushed', async () => {
    const { home, manifest } = installFixtureHome('codex-0.131');
    try {
      const proc = RpcProcess.spawn(process.execPath, [SKEIN_MAIN], {
        env: { ...process.env, CODEX_HOME: home },
        cwd: home,
      });
      const init = await proc.initialize();
      expect((init.result as { codexHome: string }).codexHome).toBe(home);
      const target = manifest.threads.find((t) => t.persisted && !t.archived);
      if (target === undefined) throw new Error('no persisted thread');
      const resumed = await proc.request('thread/resume', {
        threadId: target.id,
        excludeTurns: true,
      });
      expect(resumed).toHaveProperty('result');
      expect(
        await proc.request('thread/name/set', { threadId: target.id, name: 'Before exit' }),
      ).toHaveProperty('result');
      expect(await proc.close()).toBe(0);
      const index = readFileSync(join(home, 'session_index.jsonl'), 'utf8');
      expect(index).toContain('Before exit');
    } finally {
      removeTempDir(home);
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const { home } = installFixtureHome('codex-0.169');
    try {
      const proc = RpcProcess.spawn(process.execPath, [SKEIN_MAIN], {
        env: { ...process.env, CODEX_HOME: home },
        cwd: home,
      });
      await proc.initialize();
      await proc.request('thread/start', { cwd: home });
      const exited = new Promise<number | null>((resolve) =>
        proc.child.once('exit', (code) => resolve(code)),
      );
      proc.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      removeTempDir(home);
    }
  });
});
