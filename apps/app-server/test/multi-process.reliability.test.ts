/**
 * Several processes on one home at once: app-servers and `skein` loops start together on a
 * home of a few hundred rollouts and no state DB, then list, read and rename for a while.
 * Nothing may surface `database is locked` (in an answer, an exit, or on stderr), the home is
 * imported by one backfill, and every acknowledged rename is what a fresh process reads.
 */
import { join } from 'node:path';
import {
  backfillSnapshot,
  budget,
  JsonRpcChild,
  LineChild,
  makeTempDir,
  Rng,
  recordFigures,
  removeTempDir,
  sleep,
  writeSyntheticHome,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'dist', 'main.js');
const LOCKED = /database is locked|SQLITE_BUSY/i;
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

describe('app-servers and skein loops on one home', () => {
  it('surfaces no "database is locked", backfills once, keeps every acknowledged rename', async () => {
    const started = Date.now();
    const rng = new Rng();
    const servers = 3;
    const cliLoops = 2;
    const durationMs = budget(8_000, 60_000);
    const home = makeTempDir('skein-rel-multi-');
    homes.push(home);
    const threads = writeSyntheticHome(home, budget(400, 2_000));
    const ids = threads.map((t) => t.id);
    // Each process renames its own threads, so the last acknowledged name of each is known.
    const workers = servers + cliLoops;
    const ownThreads = (worker: number) =>
      ids.filter((_, i) => i % workers === worker).slice(0, 20);
    const lastName = new Map<string, string>();
    const problems: string[] = [];
    let requests = 0;
    let unanswered = 0;
    let cliRuns = 0;

    // Who holds the backfill lease, sampled while the processes start.
    const holders = new Set<number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const snapshot = backfillSnapshot(home);
        if (snapshot.status === 'running' && snapshot.holderPid !== null) {
          holders.add(snapshot.holderPid);
        }
        await sleep(20);
      }
    })();

    const deadline = Date.now() + durationMs;
    const serverWork = async (worker: number) => {
      const server = new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
        env: { ...process.env, CODEX_HOME: home },
        cwd: home,
      });
      try {
        await server.initialize();
        const mine = ownThreads(worker);
        for (let k = 0; Date.now() < deadline && k < 100_000; k += 1) {
          const roll = rng.next();
          let method: string;
          let params: Record<string, unknown>;
          let name: string | null = null;
          if (roll < 0.3) {
            method = 'thread/list';
            params = { limit: rng.int(1, 50) };
          } else if (roll < 0.6) {
            method = 'thread/read';
            params = { threadId: rng.pick(ids), includeTurns: rng.chance(0.5) };
          } else {
            name = `server ${worker} rename ${k}`;
            method = 'thread/name/set';
            params = { threadId: rng.pick(mine), name };
          }
          requests += 1;
          let answer: Awaited<ReturnType<typeof server.answer>>;
          try {
            answer = await server.answer(server.send(method, params), 30_000);
          } catch (error) {
            unanswered += 1;
            problems.push(`server ${worker} ${method}: ${(error as Error).message.slice(0, 300)}`);
            break;
          }
          if (answer.error !== undefined) {
            problems.push(
              `server ${worker} ${method}: ${answer.error.code} ${answer.error.message}`,
            );
          } else if (name !== null) {
            lastName.set(params.threadId as string, name);
          }
        }
      } finally {
        await server.stop();
        if (LOCKED.test(server.stderr)) problems.push(`server ${worker} stderr: ${server.stderr}`);
      }
    };
    const cliWork = async (worker: number) => {
      const mine = ownThreads(worker);
      for (let k = 0; Date.now() < deadline && k < 10_000; k += 1) {
        const rename = rng.chance(0.5);
        const target = rename ? rng.pick(mine) : rng.pick(ids);
        const name = `cli ${worker} rename ${k}`;
        const args = rename
          ? ['rename', target, name]
          : rng.pick([
              ['list', '--json'],
              ['show', target, '--json', '--metadata-only'],
            ]);
        const run = new LineChild(process.execPath, [CLI, '--codex-home', home, ...args], {
          env: { ...process.env, NO_COLOR: '1' },
        });
        const exit = await run.exited;
        cliRuns += 1;
        if (exit.code !== 0 || LOCKED.test(run.stderr)) {
          problems.push(`skein ${args.join(' ')} exited ${exit.code}: ${run.stderr.slice(0, 500)}`);
        } else if (rename) {
          lastName.set(target, name);
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: servers }, (_, i) => serverWork(i)),
      ...Array.from({ length: cliLoops }, (_, i) => cliWork(servers + i)),
    ]);
    sampling = false;
    await sampler;

    // A fresh process reads every acknowledged rename.
    let lost = 0;
    const reader = new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
      env: { ...process.env, CODEX_HOME: home },
      cwd: home,
    });
    await reader.initialize();
    for (const [threadId, name] of lastName) {
      const read = await reader.request<{ thread: { name: string | null } }>('thread/read', {
        threadId,
      });
      if (read.thread.name !== name) lost += 1;
    }
    await reader.stop();
    const final = backfillSnapshot(home);
    recordFigures(
      'multi-process: 3 app-servers + 2 skein loops on one home',
      {
        rollouts: ids.length,
        requests,
        unanswered,
        'skein runs': cliRuns,
        'renames acknowledged': lastName.size,
        lost,
        'locked/other problems': problems.length,
        'backfill holders': holders.size,
        'files imported': final.filesDone ?? 0,
        seed: rng.seed,
      },
      started,
    );
    expect(problems).toEqual([]);
    expect(unanswered).toBe(0);
    expect(lost).toBe(0);
    expect(final.status).toBe('complete');
    expect(final.threads).toBe(ids.length);
    expect(holders.size).toBeLessThanOrEqual(1);
    expect(final.filesDone).toBe(ids.length);
    expect(requests).toBeGreaterThan(servers * 10);
  });
});
