/**
 * The shared stores crashed mid-write. A writer process appends through `LiveThread` and
 * flushes, printing each acknowledged batch, while (1) PostgreSQL itself is SIGKILLed with
 * every backend (durable settings: fsync and synchronous commit on), or (2) the gRPC store
 * server (over a Codex home) is SIGKILLed. After each crash and restart, a fresh
 * `skein --store … show --json` must list every acknowledged item, once and in order.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  budget,
  LineChild,
  lostSeqs,
  makeTempDir,
  type PostgresServer,
  Rng,
  recordFigures,
  removeTempDir,
  rolloutFilesOnDisk,
  sleep,
  startPostgres,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startStoreServer } from './helpers.js';

const WRITER = fileURLToPath(new URL('./reliability/acked-writer.mjs', import.meta.url));
const CLI = join(import.meta.dirname, '..', '..', 'cli', 'dist', 'main.js');
let postgres: PostgresServer | undefined;
const servers: RunningServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  await postgres?.stop();
  for (const dir of dirs) removeTempDir(dir);
});

interface Round {
  acked: number;
  /** What the writer printed if it failed before the crash. */
  failedBefore: string | null;
}

/** Starts a writer, lets it acknowledge a few batches, runs `crash`, and collects its acks. */
async function writeThenCrash(
  rng: Rng,
  spec: string,
  threadId: string,
  crash: () => Promise<void>,
): Promise<Round> {
  const writer = new LineChild(process.execPath, [
    WRITER,
    spec,
    threadId,
    String(rng.int(1, 6)),
    '60000',
  ]);
  const target = rng.int(1, 20);
  await writer.waitForLine(
    (line) =>
      line.startsWith('failed') ||
      writer.lines.filter((l) => l.startsWith('ack ')).length >= target,
    30_000,
  );
  await sleep(rng.int(0, 20));
  // A failure before the crash is a failure of its own, not the crash's.
  const failedBefore = writer.lines.find((l) => l.startsWith('failed')) ?? null;
  await crash();
  // The writer notices the store went away (or is killed if it does not within 15 s).
  await Promise.race([writer.exited, sleep(15_000)]);
  await writer.kill();
  const acks = writer.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
  return { acked: Math.max(0, ...acks), failedBefore };
}

/** `skein --store <spec> rename` with a name one byte over the 16 KiB bound: refused. */
async function oversizedRename(spec: string, threadId: string): Promise<string> {
  const run = new LineChild(
    process.execPath,
    [CLI, '--store', spec, 'rename', threadId, 'n'.repeat(16 * 1024 + 1)],
    { env: { ...process.env, NO_COLOR: '1' } },
  );
  const exit = await run.exited;
  return `${exit.code} ${run.stderr.trim()}`;
}

/** The `seq <n>` user messages a fresh `skein --store <spec> show <id> --json` lists. */
async function seqsShown(spec: string, threadId: string): Promise<number[]> {
  const show = new LineChild(process.execPath, [CLI, '--store', spec, 'show', threadId, '--json'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exit = await show.exited;
  if (exit.code !== 0) throw new Error(`show exited ${exit.code}: ${show.stderr}`);
  const items = (
    JSON.parse(show.lines.join('\n')) as {
      items: { type: string; payload?: { type?: string; message?: string } }[];
    }
  ).items;
  return items
    .filter((item) => item.type === 'event_msg' && item.payload?.type === 'user_message')
    .map((item) => /^seq (\d+)$/.exec(item.payload?.message ?? ''))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

describe('shared stores crashed mid-write', () => {
  it('PostgreSQL SIGKILLed mid-write: nothing acknowledged is lost', async () => {
    const started = Date.now();
    const rng = new Rng();
    const crashes = budget(4, 100);
    const deadline = started + budget(40_000, 3_600_000);
    postgres = await startPostgres({ durable: true });
    const url = await postgres.createDatabase();
    const threadId = randomUUID();
    let acked = 0;
    let lost = 0;
    let outOfOrder = 0;
    let done = 0;
    for (; done < crashes && Date.now() < deadline; done += 1) {
      const round = await writeThenCrash(rng, url, threadId, () => postgres!.crash());
      expect(round.failedBefore).toBeNull();
      acked = Math.max(acked, round.acked);
      await postgres.restart();
      const check = lostSeqs(await seqsShown(url, threadId), acked);
      lost += check.lost;
      if (!check.inOrder) outOfOrder += 1;
      expect({ lost, outOfOrder, crash: done }).toEqual({ lost: 0, outOfOrder: 0, crash: done });
    }
    const rename = await oversizedRename(url, threadId);
    expect(rename).toMatch(/^[1-9]\d* .*thread name must be at most 16384 bytes/);
    recordFigures(
      'PostgreSQL store: postgres SIGKILLed mid-write',
      {
        crashes: done,
        'items acknowledged': acked,
        lost,
        'out of order': outOfOrder,
        seed: rng.seed,
      },
      started,
    );
    expect(acked).toBeGreaterThan(0);
    expect(done).toBeGreaterThanOrEqual(Math.min(crashes, 2));
  });

  it('the gRPC store server SIGKILLed mid-write: nothing acknowledged is lost', async () => {
    const started = Date.now();
    const rng = new Rng();
    const crashes = budget(6, 150);
    const deadline = started + budget(30_000, 3_600_000);
    const home = makeTempDir('skein-rel-grpc-home-');
    dirs.push(home);
    const threadId = randomUUID();
    let acked = 0;
    let lost = 0;
    let outOfOrder = 0;
    let done = 0;
    let server = await startStoreServer(home);
    servers.push(server);
    for (; done < crashes && Date.now() < deadline; done += 1) {
      const running = server;
      const round = await writeThenCrash(rng, `grpc://${running.address}`, threadId, async () => {
        running.child.kill('SIGKILL');
        await new Promise((resolve) => running.child.once('exit', resolve));
      });
      expect(round.failedBefore).toBeNull();
      acked = Math.max(acked, round.acked);
      server = await startStoreServer(home);
      servers.push(server);
      const shown = lostSeqs(await seqsShown(`grpc://${server.address}`, threadId), acked);
      const file = rolloutFilesOnDisk(home, threadId).active;
      expect(file).toHaveLength(1);
      lost += shown.lost;
      if (!shown.inOrder) outOfOrder += 1;
      expect({ lost, outOfOrder, crash: done }).toEqual({ lost: 0, outOfOrder: 0, crash: done });
    }
    const rename = await oversizedRename(`grpc://${server.address}`, threadId);
    expect(rename).toMatch(/^[1-9]\d* .*thread name must be at most 16384 bytes/);
    recordFigures(
      'gRPC store server (over a Codex home) SIGKILLed mid-write',
      {
        crashes: done,
        'items acknowledged': acked,
        lost,
        'out of order': outOfOrder,
        seed: rng.seed,
      },
      started,
    );
    expect(acked).toBeGreaterThan(0);
    expect(done).toBeGreaterThanOrEqual(Math.min(crashes, 3));
  });
});
