/**
 * SIGKILL loops through the app-server: a built server on one home is driven with pipelined
 * `thread/inject_items` and `thread/name/set` on two loaded threads and `thread/archive` /
 * `thread/unarchive` on a third, and killed with requests in flight. After every kill each
 * answered request must hold: injected items in the rollout on disk and in a fresh process's
 * read through the store, once and in order; the answered name (or a later one sent) in
 * `session_index.jsonl` and the fresh read; the answered archive state where the file is and
 * in the fresh read. The next server resumes the threads and goes on.
 */
import { fileURLToPath } from 'node:url';
import {
  budget,
  indexedNameOnDisk,
  injectedSeqsOnDisk,
  JsonRpcChild,
  LineChild,
  lostSeqs,
  makeTempDir,
  Rng,
  type RpcMessage,
  recordFigures,
  removeTempDir,
  rolloutFilesOnDisk,
  sleep,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';

const READER = fileURLToPath(new URL('./reliability/home-reader.mjs', import.meta.url));
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

interface FreshRead {
  id: string;
  name?: string | null;
  archived?: boolean;
  seqs?: number[];
  error?: string;
}

async function freshRead(home: string, ids: string[]): Promise<Map<string, FreshRead>> {
  const reader = new LineChild(process.execPath, [READER, home, ids.join(',')]);
  const exit = await reader.exited;
  if (exit.code !== 0) throw new Error(`reader exited ${exit.code}: ${reader.stderr}`);
  const reads = reader.lines.map((line) => JSON.parse(line) as FreshRead);
  return new Map(reads.map((read) => [read.id, read]));
}

const userItem = (n: number) => ({
  type: 'message',
  role: 'user',
  content: [{ type: 'input_text', text: `seq ${n}` }],
});

const nameCounter = (name: string | null | undefined) =>
  name === null || name === undefined ? 0 : Number(/^name (\d+)$/.exec(name)?.[1] ?? Number.NaN);

function startServer(home: string): JsonRpcChild {
  return new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
    env: { ...process.env, CODEX_HOME: home },
    cwd: home,
  });
}

describe('SIGKILL of the app-server with requests in flight', () => {
  it('keeps every answered inject, rename and archive, on disk and in a fresh process', async () => {
    const started = Date.now();
    const rng = new Rng();
    const kills = budget(10, 200);
    const deadline = started + budget(35_000, 3_600_000);
    const home = makeTempDir('skein-rel-app-');
    homes.push(home);

    // Three materialized threads: A and B take injects and renames, C archive toggles.
    const setup = startServer(home);
    await setup.initialize();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const result = await setup.request<{ thread: { id: string } }>('thread/start', { cwd: home });
      ids.push(result.thread.id);
      await setup.request('thread/inject_items', {
        threadId: result.thread.id,
        items: [userItem(1)],
      });
    }
    await setup.stop();
    const [a, b, c] = ids as [string, string, string];
    const loaded = [a, b];
    const ackedSeq = new Map(ids.map((id) => [id, new Set([1])]));
    const nextSeq = new Map([
      [a, 2],
      [b, 2],
    ]);
    const ackedName = new Map([
      [a, 0],
      [b, 0],
    ]);
    let sentName = 0;
    let namesAcknowledged = 0;
    let archivesAcknowledged = 0;
    let archived = false;

    let done = 0;
    let answered = 0;
    let lost = 0;
    let outOfOrder = 0;
    let errors = 0;
    let inFlightAtKill = 0;
    const errorSamples: string[] = [];
    /** Anything that went wrong in the test's own bookkeeping of answers. */
    const failures: string[] = [];
    for (; done < kills && Date.now() < deadline; done += 1) {
      const server = startServer(home);
      let archiveInFlight: boolean | null = null;
      if (rng.chance(0.15)) {
        // Killed while starting (opening the DB, maybe resuming).
        await sleep(rng.int(0, 300));
      } else {
        await server.initialize();
        for (const id of loaded) await server.request('thread/resume', { threadId: id });
        const target = rng.int(3, 40);
        const pending = new Set<Promise<void>>();
        let answeredHere = 0;
        for (let op = 0; op < 500 && answeredHere < target; op += 1) {
          const roll = rng.next();
          let request: Promise<void>;
          if (roll < 0.15 && archiveInFlight === null) {
            const to: boolean = !archived;
            archiveInFlight = to;
            const id = server.send(to ? 'thread/archive' : 'thread/unarchive', { threadId: c });
            request = server.answer(id).then((answer: RpcMessage) => {
              if (answer.error === undefined) {
                archived = to;
                archiveInFlight = null;
                archivesAcknowledged += 1;
              }
            }) as Promise<void>;
          } else if (roll < 0.4) {
            const id = rng.pick(loaded);
            const counter = ++sentName;
            const sent = server.send('thread/name/set', { threadId: id, name: `name ${counter}` });
            request = server.answer(sent).then((answer: RpcMessage) => {
              if (answer.error === undefined) {
                ackedName.set(id, Math.max(ackedName.get(id) ?? 0, counter));
                namesAcknowledged += 1;
              }
            }) as Promise<void>;
          } else {
            const id = rng.pick(loaded);
            const first = nextSeq.get(id)!;
            const count = rng.int(1, 4);
            nextSeq.set(id, first + count);
            const items = Array.from({ length: count }, (_, k) => userItem(first + k));
            const sent = server.send('thread/inject_items', { threadId: id, items });
            request = server.answer(sent).then((answer: RpcMessage) => {
              if (answer.error === undefined) {
                for (let k = 0; k < count; k += 1) ackedSeq.get(id)!.add(first + k);
              }
            }) as Promise<void>;
          }
          const tracked: Promise<void> = request
            .then(() => {
              answeredHere += 1;
            })
            // Only an answer that never came (the kill) is expected here.
            .catch((error: Error) => {
              if (!/exited before answering/.test(error.message)) failures.push(error.message);
            })
            .finally(() => pending.delete(tracked));
          pending.add(tracked);
          // Keep up to four requests in flight.
          while (pending.size >= 4) await Promise.race(pending);
        }
        inFlightAtKill += pending.size;
        answered += answeredHere;
      }
      await server.kill();
      for (const answer of server.answers.values()) {
        if (answer.error !== undefined) {
          errors += 1;
          if (errorSamples.length < 5) errorSamples.push(answer.error.message);
        }
      }

      // On disk: items, names, archive state.
      for (const id of loaded) {
        const files = rolloutFilesOnDisk(home, id);
        expect(files.active, `one active rollout for ${id}`).toHaveLength(1);
        const seqs = injectedSeqsOnDisk(files.active[0]!);
        const check = lostSeqs(seqs, ackedSeq.get(id)!);
        lost += check.lost;
        if (!check.inOrder) outOfOrder += 1;
        nextSeq.set(id, Math.max(nextSeq.get(id)!, (seqs.at(-1) ?? 0) + 1));
        const onDisk = nameCounter(indexedNameOnDisk(home, id));
        if (onDisk < ackedName.get(id)! || onDisk > sentName) lost += 1;
      }
      const cFiles = rolloutFilesOnDisk(home, c);
      expect(cFiles.active.length + cFiles.archived.length, 'one rollout for C').toBe(1);
      const cArchivedOnDisk = cFiles.archived.length === 1;
      const allowed: boolean[] =
        archiveInFlight === null ? [archived] : [archived, archiveInFlight];
      if (!allowed.includes(cArchivedOnDisk)) lost += 1;

      // A fresh process reads the same through the store.
      const reads = await freshRead(home, ids);
      for (const id of loaded) {
        const read = reads.get(id)!;
        expect(read.error, `fresh read of ${id}`).toBeUndefined();
        const check = lostSeqs(read.seqs ?? [], ackedSeq.get(id)!);
        lost += check.lost;
        if (!check.inOrder) outOfOrder += 1;
        const counter = nameCounter(read.name);
        if (counter < ackedName.get(id)! || counter > sentName) lost += 1;
      }
      const cRead = reads.get(c)!;
      expect(cRead.error, 'fresh read of C').toBeUndefined();
      expect(cRead.archived, 'the fresh read agrees with where the file is').toBe(cArchivedOnDisk);
      archived = cArchivedOnDisk;
      expect({ lost, outOfOrder, errors, kill: done }).toEqual({
        lost: 0,
        outOfOrder: 0,
        errors: 0,
        kill: done,
      });
    }

    const items = [...ackedSeq.values()].reduce((sum, acked) => sum + acked.size, 0);
    recordFigures(
      'app-server: SIGKILL with inject_items/name/archive in flight',
      {
        kills: done,
        'requests answered': answered,
        'in flight at kill': inFlightAtKill,
        'items acknowledged': items,
        'renames acknowledged': namesAcknowledged,
        'archive toggles acknowledged': archivesAcknowledged,
        lost,
        'out of order': outOfOrder,
        'error answers': errors,
        seed: rng.seed,
      },
      started,
    );
    expect(errorSamples).toEqual([]);
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThanOrEqual(Math.min(kills, 4));
    expect(answered).toBeGreaterThan(0);
    expect(lost).toBe(0);
  });
});
