import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  getThread,
  listChildThreads,
  readBackfillState,
  type StateDb,
  StateRuntime,
  stateDbFileName,
} from '@skein/state';
import { FIXTURE_NAMES, installFixtureHome, makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb, openStateDbIfReady, runBackfill } from '../src/index.js';
import { tokenCountLine, userMessageLine, zstdStore } from './helpers.js';
import { startChild, writeLegacyHome, writeLegacyRollout } from './state-db-helpers.js';

// Child-process tests run the built dist/ (turbo builds before `test`).

const handles: StateDb[] = [];
async function init(options: Parameters<typeof initStateDb>[0]): Promise<StateDb> {
  const db = await initStateDb(options);
  handles.push(db);
  return db;
}
afterEach(async () => {
  for (const db of handles.splice(0)) await db.close();
});

function indexNames(db: StateDb): string[] {
  return (
    db.sqlite
      .prepare(
        "select name from sqlite_master where type = 'index' and tbl_name = 'threads' and sql is not null order by name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
}

function rowCount(db: StateDb): number {
  return (db.sqlite.prepare('select count(*) as n from threads').get() as { n: number }).n;
}

describe('initStateDb', () => {
  it('imports every rollout before returning: archived flags, hidden previews, failures counted', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 20);
    const silent = writeLegacyRollout(home, { index: 40, userMessage: null });
    const emptyFile = join(
      home,
      'sessions/2025/03/01/rollout-2025-03-01T00-00-00-00000000-0000-7000-8000-000000000001.jsonl',
    );
    writeFileSync(emptyFile, '');
    const progress: number[] = [];
    const db = await init({
      codexHome: home,
      onProgress: (p) => progress.push(p.filesDone),
      backfill: { batchSize: 6 },
    });

    const state = await readBackfillState(db.ctx);
    expect(state.status).toBe('complete');
    expect(state.filesDone).toBe(21);
    expect(state.filesFailed).toBe(1);
    const all = [...threads, silent]
      .map((t) => t.rel)
      .concat(
        'sessions/2025/03/01/rollout-2025-03-01T00-00-00-00000000-0000-7000-8000-000000000001.jsonl',
      );
    expect(state.lastWatermark).toBe(all.sort().at(-1));
    expect(rowCount(db)).toBe(21);
    for (const t of threads) {
      const row = (await getThread(db.ctx, t.id))!;
      expect(row.rolloutPath).toBe(t.path);
      expect(row.archived).toBe(t.archived);
      expect(row.archivedAtMs).toBe(t.archived ? t.mtimeMs : null);
      expect(row.preview).toBe(t.preview);
      expect(row.cwd).toBe(t.cwd);
      expect(row.updatedAtMs).toBe(t.mtimeMs);
      expect(row.memoryMode).toBe('enabled');
    }
    expect((await getThread(db.ctx, silent.id))?.preview).toBe('');
    expect(progress.at(-1)).toBe(22);
    // The DB is Skein's own file, next to where Codex keeps its state.
    expect(db.path).toBe(join(home, stateDbFileName()));
  });

  it('extraction on a helper thread (built dist/) imports the same rows', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 20);
    const child = startChild(['init-workers', home, home, '10000', '100']);
    const result = JSON.parse(await child.waitFor((l) => l.startsWith('{')));
    expect(result).toMatchObject({ ok: true, rows: threads.length });
    const db = await init({ codexHome: home });
    for (const t of threads) {
      const row = (await getThread(db.ctx, t.id))!;
      expect([row.preview, row.archived, row.rolloutPath]).toEqual([t.preview, t.archived, t.path]);
    }
    expect((await readBackfillState(db.ctx)).filesDone).toBe(threads.length);
  });

  it('the reader thread (built dist/) imports exactly the rows of extraction on this thread', async () => {
    const home = makeTempDir();
    // Enough files for several reader batches, plus every odd case the reader hands back.
    writeLegacyHome(home, 150);
    const day = join(home, 'sessions/2025/04/01');
    mkdirSync(day, { recursive: true });
    const name = (n: number) =>
      `rollout-2025-04-01T00-00-0${n}-00000000-0000-7000-8000-00000000000${n}.jsonl`;
    writeFileSync(join(day, name(1)), '');
    symlinkSync(join(day, 'nowhere.jsonl'), join(day, name(2)));
    const compressed = writeLegacyRollout(home, { index: 300 }).path;
    writeFileSync(`${compressed}.zst`, zstdStore(readFileSync(compressed)));
    unlinkSync(compressed);
    const big = writeLegacyRollout(home, { index: 301, userMessage: 'x'.repeat(700_000) });
    const middle = writeLegacyRollout(home, { index: 302 });
    const filler = JSON.stringify({
      timestamp: 't',
      type: 'response_item',
      payload: { type: 'message', role: 'assistant', content: [] },
    });
    const token = JSON.stringify(tokenCountLine(777));
    appendFileSync(
      middle.path,
      `${`${filler}\n`.repeat(50)}${token}\n${`${filler}\n`.repeat(50)}{"timestamp":"torn`,
    );
    writeFileSync(join(day, name(3)), `${JSON.stringify(userMessageLine('no meta'))}\n`);
    const run = async (prescan: boolean) => {
      const sqliteHome = makeTempDir();
      const child = startChild(['backfill-rows', home, sqliteHome, String(prescan)]);
      await child.waitFor((l) => l === 'done');
      return JSON.parse(readFileSync(join(sqliteHome, 'rows.json'), 'utf8'));
    };
    const onMain = await run(false);
    const withReader = await run(true);
    expect(onMain.rows.length).toBe(154);
    expect(onMain.outcome.failed).toBe(2);
    expect(onMain.rows.find((r: { id: string }) => r.id === middle.id).tokens_used).toBe(777);
    expect(
      onMain.rows.find((r: { id: string }) => r.id === big.id).first_user_message,
    ).toHaveLength(700_000);
    expect(withReader).toEqual(onMain);
  });

  it('a big first import leaves the connection settings as it found them', async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 12);
    const runtime = await StateRuntime.open({ sqliteHome: home });
    handles.push(runtime);
    const settings = () => [
      runtime.sqlite.pragma('cache_size', { simple: true }),
      runtime.sqlite.pragma('synchronous', { simple: true }),
    ];
    const before = settings();
    const outcome = await runBackfill(runtime, { codexHome: home, deferIndexesMinFiles: 1 });
    expect(outcome.imported).toBe(12);
    expect(settings()).toEqual(before);
    expect(indexNames(runtime).length).toBeGreaterThan(0);
  });

  it('an empty home completes at once', async () => {
    const db = await init({ codexHome: makeTempDir() });
    expect((await readBackfillState(db.ctx)).status).toBe('complete');
  });

  it('openStateDbIfReady returns nothing until the backfill is complete', async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 3);
    expect(await openStateDbIfReady({ codexHome: home })).toBeUndefined();
    const fresh = await StateRuntime.open({ sqliteHome: home });
    await fresh.close();
    expect(await openStateDbIfReady({ codexHome: home })).toBeUndefined();
    await (await initStateDb({ codexHome: home })).close();
    const ready = await openStateDbIfReady({ codexHome: home });
    expect(ready).toBeDefined();
    handles.push(ready!);
    expect(rowCount(ready!)).toBe(3);
  });

  it('a corrupted DB file is backed up and rebuilt with every thread back', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 12);
    await (await initStateDb({ codexHome: home })).close();
    const path = join(home, stateDbFileName());
    const bytes = readFileSync(path);
    bytes.fill(0x42, 0, 100); // a smashed header
    writeFileSync(path, bytes);
    const db = await init({ codexHome: home });
    expect(db.recoveredBackupDir).toMatch(/db-backups\/sqlite-\d+-\d+$/);
    expect(statSync(join(db.recoveredBackupDir!, stateDbFileName())).size).toBe(bytes.length);
    expect(rowCount(db)).toBe(threads.length);
    for (const t of threads) expect((await getThread(db.ctx, t.id))?.preview).toBe(t.preview);
  });

  it('a stuck lease held by a live process times out instead of hanging', async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 3);
    const holder = startChild(['hold-lease', home]);
    try {
      await holder.waitFor((l) => l === 'held');
      const started = Date.now();
      await expect(
        initStateDb({ codexHome: home, waitMs: 1500, pollMs: 200 }),
      ).rejects.toMatchObject({
        code: 'BackfillTimedOut',
        message: expect.stringContaining('timed out waiting for state db backfill'),
      });
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(1400);
      expect(waited).toBeLessThan(10_000);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
  });

  it('a lease left by a dead process is reclaimed at once', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 5);
    const holder = startChild(['hold-lease', home]);
    await holder.waitFor((l) => l === 'held');
    holder.child.kill('SIGKILL');
    await holder.exited;
    const started = Date.now();
    // The lease runs for an hour and we would wait a minute: only owner death explains speed.
    const db = await init({ codexHome: home, waitMs: 60_000, pollMs: 1000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(rowCount(db)).toBe(threads.length);
  });

  it('a second process waits for a concurrent backfill instead of giving up', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 30);
    const worker = startChild(['slow-backfill', home, home, '5', '250']);
    try {
      await worker.waitFor((l) => l === 'progress 5');
      const waiter = startChild(['init', home, home, '30000', '100']);
      const result = JSON.parse(await waiter.waitFor((l) => l.startsWith('{')));
      expect(result).toMatchObject({ ok: true, rows: threads.length });
      await worker.waitFor((l) => l === 'done');
      const db = await init({ codexHome: home });
      const state = await readBackfillState(db.ctx);
      // Imported once: the waiter did not run its own import next to the worker's.
      expect(state.filesDone).toBe(threads.length);
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('a backfill killed midway (kill -9) resumes from its watermark and indexes every thread once', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 40);
    const worker = startChild(['slow-backfill', home, home, '4', '5000']);
    await worker.waitFor((l) => l === 'progress 8');
    worker.child.kill('SIGKILL');
    await worker.exited;

    const crashed = await StateRuntime.open({ sqliteHome: home });
    const mid = await readBackfillState(crashed.ctx);
    expect(mid.status).toBe('running');
    const sorted = threads.map((t) => t.rel).sort();
    expect(mid.lastWatermark).toBe(sorted[7]);
    expect(rowCount(crashed)).toBe(8);
    // The crashed first import had dropped the secondary indexes; their definitions are kept.
    expect(indexNames(crashed)).toEqual([]);
    await crashed.close();

    const db = await init({ codexHome: home, waitMs: 10_000 });
    const state = await readBackfillState(db.ctx);
    expect(state.status).toBe('complete');
    expect(state.filesDone).toBe(threads.length); // 8 before the crash + 32 after, none twice
    expect(rowCount(db)).toBe(threads.length);
    const reference = await StateRuntime.open({ sqliteHome: makeTempDir() });
    expect(indexNames(db)).toEqual(indexNames(reference));
    expect(indexNames(db).length).toBeGreaterThan(5);
    await reference.close();
  });
});

describe('backfill of the fixture homes', () => {
  for (const name of FIXTURE_NAMES) {
    it(`${name}: every persisted thread of the manifest, with name, archived flag, preview, cwd, git`, async () => {
      const { home, manifest } = installFixtureHome(name);
      const codexDb = join(home, 'state_5.sqlite');
      const codexDbBefore = readFileSync(codexDb);
      const db = await init({ codexHome: home });
      expect(readFileSync(codexDb).equals(codexDbBefore)).toBe(true); // Codex's DB untouched

      const persisted = manifest.threads.filter((t) => t.persisted);
      expect(rowCount(db)).toBe(persisted.length);
      for (const t of manifest.threads) {
        const row = await getThread(db.ctx, t.id);
        if (!t.persisted) {
          expect(row, t.key).toBeUndefined();
          continue;
        }
        expect(row, t.key).toBeDefined();
        expect(row!.archived, t.key).toBe(t.archived);
        expect(
          row!.rolloutPath.startsWith(join(home, t.archived ? 'archived_sessions' : 'sessions')),
          t.key,
        ).toBe(true);
        expect(row!.preview, t.key).toBe(t.preview ?? '');
        expect(row!.cwd, t.key).toBe(t.cwd);
        expect(row!.name, t.key).toBe(t.name);
        expect(row!.forkedFromId, t.key).toBe(t.forkedFromId);
        // A git update through the API lives only in Codex's DB for 0.169 (not in the rollout).
        const gitOnlyInDb =
          t.actions.some((a) => String(a).includes('metadata/update gitInfo')) &&
          name === 'codex-0.169';
        if (!gitOnlyInDb) {
          expect([row!.gitSha, row!.gitBranch, row!.gitOriginUrl], t.key).toEqual([
            t.gitInfo?.sha ?? null,
            t.gitInfo?.branch ?? null,
            t.gitInfo?.originUrl ?? null,
          ]);
        }
        if (t.parentThreadId) {
          const children = await listChildThreads(db.ctx, t.parentThreadId);
          expect(
            children.map((c) => c.childId),
            t.key,
          ).toContain(t.id);
        }
      }
    });
  }
});
