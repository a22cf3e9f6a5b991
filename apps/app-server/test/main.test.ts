/**
 * The built entrypoint: honours CODEX_HOME, serves stdio, and exits cleanly on stdin EOF and
 * on SIGTERM after flushing — a thread renamed just before the exit is on disk afterwards.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, removeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';
import { RpcProcess } from './support/rpc-process.js';

/** The built server, serving `home` over stdio. */
function serveHome(home: string): RpcProcess {
  return RpcProcess.spawn(process.execPath, [SKEIN_MAIN], {
    env: { ...process.env, CODEX_HOME: home },
    cwd: home,
  });
}

describe('main entrypoint', () => {
  it('serves the given CODEX_HOME and exits 0 on stdin EOF with writes flushed', async () => {
    const { home, manifest } = installFixtureHome('codex-0.131');
    try {
      const proc = serveHome(home);
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

  // Reads the server's children from /proc.
  it.skipIf(process.platform !== 'linux')(
    'starts the file-lock helper before the first lock, without waiting for a request',
    async () => {
      const { home } = installFixtureHome('codex-0.169');
      try {
        const proc = serveHome(home);
        await proc.initialize();
        const pid = proc.child.pid as number;
        const childCommands = () =>
          readdirSync(`/proc/${pid}/task`).flatMap((task) =>
            readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
              .split(' ')
              .filter((child) => child !== '' && existsSync(`/proc/${child}/comm`))
              .map((child) => readFileSync(`/proc/${child}/comm`, 'utf8').trim()),
          );
        // Nothing but initialize was asked: no lock has been taken.
        const deadline = Date.now() + 5_000;
        while (!childCommands().includes('perl') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(childCommands()).toContain('perl');
        // It is the helper the first lock uses: a thread starts (its writer lock) and no other
        // helper is spawned.
        expect(await proc.request('thread/start', { cwd: home })).toHaveProperty('result');
        expect(childCommands().filter((command) => command === 'perl')).toHaveLength(1);
        expect(await proc.close()).toBe(0);
      } finally {
        removeTempDir(home);
      }
    },
  );

  it('exits 0 on SIGTERM', async () => {
    const { home } = installFixtureHome('codex-0.169');
    try {
      const proc = serveHome(home);
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
