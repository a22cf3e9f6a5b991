/**
 * SIGKILL loops through the store API: a writer process appends through `LiveThread` and
 * flushes, printing each acknowledged batch; it is killed at random points (while starting,
 * resuming, appending, flushing) and started again on the same home. After every kill, every
 * acknowledged item must be in the rollout on disk and in the history a fresh process reads
 * through the store, once and in order.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initStateDb } from '@skein/rollout';
import { newThreadId } from '@skein/state';
import {
  budget,
  LineChild,
  lostSeqs,
  makeTempDir,
  Rng,
  recordFigures,
  removeTempDir,
  sleep,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const WRITER = fileURLToPath(new URL('./reliability/store-writer.mjs', import.meta.url));
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

/** Every `rollout-…-<id>.jsonl` under the home's sessions/ tree. */
function rolloutFilesOf(home: string, threadId: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(`${threadId}.jsonl`)) out.push(path);
    }
  };
  walk(join(home, 'sessions'));
  return out;
}

/** The `seq <n>` user messages of a rollout file, read as bytes on disk (torn lines skipped). */
function seqsOnDisk(file: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    let value: { type?: string; payload?: { type?: string; message?: string } };
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const match = /^seq (\d+)$/.exec(value.payload?.message ?? '');
    if (value.type === 'event_msg' && value.payload?.type === 'user_message' && match) {
      out.push(Number(match[1]));
    }
  }
  return out;
}

function parseSeqs(text: string | undefined): number[] {
  return text === undefined || text === '-' || text === '' ? [] : text.split(',').map(Number);
}

describe('SIGKILL during LiveThread appends and flushes (store API)', () => {
  it('loses no acknowledged item, on disk or through a fresh process', async () => {
    const started = Date.now();
    const rng = new Rng();
    const kills = budget(20, 400);
    const deadline = started + budget(30_000, 3_600_000);
    const home = makeTempDir('skein-rel-store-');
    homes.push(home);
    // Codex 0.169's schema: one legacy thread, one paginated (projection kept in step).
    const db = await initStateDb({ codexHome: home, createSchema: '0.169.0' });
    await db.close();
    const ids = [newThreadId(), newThreadId()];
    const modes = ['legacy', 'paginated'];
    const acknowledged = new Map<string, number>(ids.map((id) => [id, 0]));
    let done = 0;
    let lost = 0;
    let outOfOrder = 0;
    let killedBeforeWriting = 0;

    for (; done < kills && Date.now() < deadline; done += 1) {
      const writer = new LineChild(process.execPath, [
        WRITER,
        'write',
        home,
        ids.join(','),
        modes.join(','),
        String(rng.int(1, 8)),
        '60000',
      ]);
      // What this fresh process read through the store before writing.
      const early = rng.chance(0.2);
      if (early) await sleep(rng.int(0, 400));
      else {
        const target = rng.int(1, 25);
        await writer.waitForLine(
          (line) =>
            line === 'done' || writer.lines.filter((l) => l.startsWith('ack ')).length >= target,
          30_000,
        );
        await sleep(rng.int(0, 15));
      }
      await writer.kill();
      if (!writer.lines.includes('writing')) killedBeforeWriting += 1;
      for (const line of writer.lines) {
        const [kind, id, value] = line.split(' ');
        if (kind === 'resumed' && id !== undefined) {
          const check = lostSeqs(parseSeqs(value), acknowledged.get(id) ?? 0);
          lost += check.lost;
          if (!check.inOrder) outOfOrder += 1;
        }
        if (kind === 'ack' && id !== undefined) {
          acknowledged.set(id, Math.max(acknowledged.get(id) ?? 0, Number(value)));
        }
      }
      // On disk, right after the kill.
      for (const id of ids) {
        const files = rolloutFilesOf(home, id);
        if ((acknowledged.get(id) ?? 0) === 0 && files.length === 0) continue;
        expect(files, `one rollout for ${id}`).toHaveLength(1);
        const check = lostSeqs(seqsOnDisk(files[0]!), acknowledged.get(id) ?? 0);
        lost += check.lost;
        if (!check.inOrder) outOfOrder += 1;
      }
      expect({ lost, outOfOrder, kill: done }).toEqual({ lost: 0, outOfOrder: 0, kill: done });
    }

    // A last fresh process reads every thread through the store.
    const checker = new LineChild(process.execPath, [WRITER, 'check', home, ids.join(',')]);
    const exit = await checker.exited;
    expect(exit.code, checker.stderr).toBe(0);
    for (const line of checker.lines.filter((l) => l.startsWith('seqs '))) {
      const [, id, value] = line.split(' ');
      const check = lostSeqs(parseSeqs(value), acknowledged.get(id!) ?? 0);
      lost += check.lost;
      if (!check.inOrder) outOfOrder += 1;
    }
    const items = [...acknowledged.values()].reduce((sum, n) => sum + n, 0);
    recordFigures(
      'store API: SIGKILL during LiveThread appends',
      {
        kills: done,
        'killed before writing': killedBeforeWriting,
        'items acknowledged': items,
        lost,
        'out of order': outOfOrder,
        seed: rng.seed,
      },
      started,
    );
    expect(done).toBeGreaterThanOrEqual(Math.min(kills, 5));
    expect(items).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(outOfOrder).toBe(0);
  });
});
