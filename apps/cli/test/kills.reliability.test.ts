/**
 * SIGKILL loops through the CLI on a copy of a real Codex 0.169 home: `skein rename` on one
 * thread and `skein archive` / `skein unarchive` on another, each process killed at a random
 * point of its run (or let finish). After every run, what the last successful command set must
 * hold — or what the killed one was setting — in `session_index.jsonl`, where the rollout file
 * is, and in a fresh `skein show --json`; and the next command must work from there.
 */
import {
  budget,
  indexedNameOnDisk,
  Rng,
  recordFigures,
  removeTempDir,
  rolloutFilesOnDisk,
  sleep,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { cliProcess, fixture, thread } from './helpers.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

interface ShowJson {
  thread: { id: string; name: string | null };
  archived: boolean;
}

async function freshShow(home: string, id: string): Promise<ShowJson> {
  const show = cliProcess(home, ['show', id, '--json', '--metadata-only']);
  const exit = await show.exited;
  if (exit.code !== 0) throw new Error(`show ${id} exited ${exit.code}: ${show.stderr}`);
  return JSON.parse(show.lines.join('\n')) as ShowJson;
}

describe('SIGKILL of skein rename / archive / unarchive', () => {
  it('keeps every completed command, and a killed one is all or nothing', async () => {
    const started = Date.now();
    const rng = new Rng();
    const runs = budget(12, 300);
    const deadline = started + budget(35_000, 3_600_000);
    const { home, manifest } = fixture('codex-0.169');
    homes.push(home);
    const renamed = thread(manifest, 'plain').id;
    const toggled = thread(manifest, 'multiTurn').id;

    // A first command on the copied home also checks its DB and records the check: run one
    // untimed, so a typical run is timed on a home as users have it, and kills land inside one.
    const warmUp = await cliProcess(home, ['rename', renamed, 'warm-up']).exited;
    expect(warmUp.code).toBe(0);
    let ackedName: string | null = indexedNameOnDisk(home, renamed);
    let archived = false;
    /** How long completed commands took: kills land anywhere in a typical run. */
    const durations: number[] = [];
    const typicalMs = () =>
      [...durations].sort((x, y) => x - y)[Math.floor(durations.length / 2)] ?? 1000;
    let done = 0;
    let kills = 0;
    let completed = 0;
    let lost = 0;
    let incoherent = 0;
    const failures: string[] = [];
    /** What each loss looked like: the command, whether it was killed, what was allowed and seen. */
    const losses: unknown[] = [];
    for (let counter = 1; done < runs && Date.now() < deadline; counter += 1, done += 1) {
      const rename = rng.chance(0.5);
      const name = `name ${counter}`;
      const args = rename
        ? ['rename', renamed, name]
        : [archived ? 'unarchive' : 'archive', toggled];
      const began = Date.now();
      const child = cliProcess(home, args);
      // A quarter run to the end (timing typical runs); the rest are killed within a typical run.
      const killAfter =
        done === 0 || rng.chance(0.25)
          ? null
          : rng.int(Math.round(typicalMs() * 0.3), Math.round(typicalMs() * 1.1));
      const exit =
        killAfter === null
          ? await child.exited
          : await Promise.race([child.exited, sleep(killAfter).then(() => null)]);
      let finished = exit !== null;
      if (!finished) {
        await child.kill();
        // It may have exited on its own just before the signal.
        const after = await child.exited;
        finished = after.signal === null;
        if (!finished) kills += 1;
      }
      const status = await child.exited;
      if (finished) {
        if (status.code !== 0)
          failures.push(`${args.join(' ')} exited ${status.code}: ${child.stderr}`);
        completed += 1;
        durations.push(Date.now() - began);
      }

      if (rename) {
        const onDisk = indexedNameOnDisk(home, renamed);
        const shown = (await freshShow(home, renamed)).thread.name;
        const allowed = finished && status.code === 0 ? [name] : [ackedName, name];
        if (!allowed.includes(onDisk) || !allowed.includes(shown)) {
          lost += Number(!allowed.includes(onDisk)) + Number(!allowed.includes(shown));
          losses.push({ args, killed: !finished, allowed, onDisk, shown });
        }
        // All or nothing: the next open shows the name the index holds, old or new.
        if (shown !== onDisk) {
          incoherent += 1;
          losses.push({ args, killed: !finished, onDisk, shown });
        }
        ackedName = onDisk;
      } else {
        const files = rolloutFilesOnDisk(home, toggled);
        if (files.active.length + files.archived.length !== 1) {
          incoherent += 1;
          losses.push({ args, killed: !finished, files });
        }
        const onDisk = files.archived.length === 1;
        const shown = (await freshShow(home, toggled)).archived;
        const target: boolean = !archived;
        const allowed: boolean[] = finished && status.code === 0 ? [target] : [archived, target];
        if (!allowed.includes(onDisk)) {
          lost += 1;
          losses.push({ args, killed: !finished, allowed, onDisk, shown });
        }
        if (shown !== onDisk) {
          incoherent += 1;
          losses.push({ args, killed: !finished, onDisk, shown });
        }
        archived = onDisk;
      }
      expect({ lost, incoherent, failures, run: done, losses }).toEqual({
        losses: [],
        lost: 0,
        incoherent: 0,
        failures: [],
        run: done,
      });
    }
    recordFigures(
      'CLI: SIGKILL of rename/archive/unarchive',
      {
        runs: done,
        kills,
        'commands completed': completed,
        lost,
        incoherent,
        failures: failures.length,
        seed: rng.seed,
      },
      started,
    );
    expect(kills).toBeGreaterThan(0);
    expect(done).toBeGreaterThanOrEqual(Math.min(runs, 5));
  });
});
