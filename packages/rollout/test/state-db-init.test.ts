import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  getThread,
  readBackfillState,
  type StateDb,
  StateRuntime,
  stateDbFileName,
} from '@skein/state';
import { FIXTURE_NAMES, installFixtureHome, makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { initStateDb, openStateDbIfReady, runBackfill, startStateDb } from '../src/index.js';
import {
  sessionMetaLine,
  tokenCountLine,
  turnContextLine,
  userMessageLine,
  writeRolloutFile,
  zstdStore,
} from './helpers.js';
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

/** A backfill of `home` in a child process (the built dist/, where the reader thread runs). */
async function backfillRowsInChild(
  home: string,
  prescan: 'true' | 'false' | 'only',
  bulk?: 'bulk',
) {
  const sqliteHome = makeTempDir();
  const child = startChild(['backfill-rows', home, sqliteHome, prescan, ...(bulk ? [bulk] : [])]);
  await child.waitFor((l) => l === 'done');
  return JSON.parse(readFileSync(join(sqliteHome, 'rows.json'), 'utf8'));
}

/** What a backfill wrote and reported, without which thread or transaction built each row. */
function rowsOnly(result: { readerExtracted: number; bulkImported: number }): unknown {
  const { readerExtracted: _, bulkImported: __, ...rest } = result;
  return rest;
}

function indexNames(db: StateDb): string[] {
  return (
    db.sqlite
      .prepare(
        "select name from sqlite_master where type = 'index' and tbl_name = 'threads' and sql is not null order by name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
}

/**
 * Runs `body` while a child process holds the home's backfill lease (Skein's and Codex's);
 * the child is killed after, whatever `body` did.
 */
async function whileLeaseHeld<T>(home: string, body: () => Promise<T>): Promise<T> {
  const holder = startChild(['hold-lease', home]);
  try {
    await holder.waitFor((l) => l === 'held');
    return await body();
  } finally {
    holder.child.kill('SIGKILL');
    await holder.exited;
  }
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

    const state = await readBackfillState(db);
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
    expect((await readBackfillState(db)).filesDone).toBe(threads.length);
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
    const onMain = await backfillRowsInChild(home, 'false');
    const byReader = await backfillRowsInChild(home, 'only');
    const shared = await backfillRowsInChild(home, 'true');
    const bulked = await backfillRowsInChild(home, 'true', 'bulk');
    expect(onMain.rows.length).toBe(154);
    expect(onMain.outcome.failed).toBe(2);
    expect(onMain.rows.find((r: { id: string }) => r.id === middle.id).tokens_used).toBe(777);
    expect(
      onMain.rows.find((r: { id: string }) => r.id === big.id).first_user_message,
    ).toHaveLength(700_000);
    expect(onMain.readerExtracted).toBe(0);
    // Every file but the dangling link (which it cannot open) had its row built by the reader.
    expect(byReader.readerExtracted).toBe(onMain.outcome.imported + onMain.outcome.failed - 1);
    expect(rowsOnly(byReader)).toEqual(rowsOnly(onMain));
    expect(rowsOnly(shared)).toEqual(rowsOnly(onMain));
    // One transaction with the indexes built at its end: the same rows, state and indexes
    // (names and SQL) as batch by batch with the indexes in place.
    expect(onMain.bulkImported).toBe(0);
    expect(bulked.bulkImported).toBe(onMain.outcome.imported);
    expect(
      onMain.indexes.filter((i: { tbl_name: string }) => i.tbl_name === 'threads').length,
    ).toBeGreaterThan(5);
    expect(rowsOnly(bulked)).toEqual(rowsOnly(onMain));
  });

  for (const name of FIXTURE_NAMES) {
    it(`${name}: the reader thread's rows are exactly this thread's, for real and odd rollouts`, async () => {
      const { home } = installFixtureHome(name);
      unlinkSync(join(home, 'state_5.sqlite'));
      // Beside Codex's own rollouts: what the fixtures lack, in the fields rows carry.
      const realDir = makeTempDir();
      const linkedCwd = join(makeTempDir(), 'linked');
      symlinkSync(realDir, linkedCwd);
      const extra = (n: number, lines: object[], meta: Record<string, unknown> = {}) => {
        const id = `00000000-0000-7000-8000-0000000001${String(n).padStart(2, '0')}`;
        const path = join(
          home,
          `sessions/2025/05/0${1 + (n % 3)}`,
          `rollout-2025-05-01T00-00-${String(n).padStart(2, '0')}-${id}.jsonl`,
        );
        writeRolloutFile(path, [sessionMetaLine(id, meta), ...lines]);
        return id;
      };
      extra(1, [userMessageLine('Grüße, 世界 — émoji 🧵 and a quote "x"\n'), tokenCountLine(12)]);
      extra(2, [
        sessionMetaLine('00000000-0000-7000-8000-000000000102', { memory_mode: 'disabled' }),
      ]);
      extra(3, [turnContextLine({ sandbox_policy: { type: 'workspace-write' } })], {
        cwd: linkedCwd,
      });
      extra(4, [turnContextLine({ approval_policy: null, sandbox_policy: null, effort: null })]);
      extra(5, [
        {
          timestamp: 't',
          type: 'event_msg',
          payload: { type: 'thread_goal_updated', goal: { objective: '  goal only  ' } },
        },
      ]);
      writeRolloutFile(
        join(
          home,
          'archived_sessions/rollout-2025-05-02T00-00-00-00000000-0000-7000-8000-000000000199.jsonl',
        ),
        [
          sessionMetaLine('00000000-0000-7000-8000-000000000199', {
            cwd: 'relative/dir',
            git: { commit_hash: 'abc', branch: 'dev', repository_url: 'https://example.invalid/r' },
            source: {
              subagent: {
                thread_spawn: {
                  parent_thread_id: '00000000-0000-7000-8000-000000000101',
                  depth: 1,
                },
              },
            },
          }),
          userMessageLine('from a sub-agent'),
        ],
      );
      const onMain = await backfillRowsInChild(home, 'false');
      const byReader = await backfillRowsInChild(home, 'only');
      expect(onMain.rows.length).toBeGreaterThan(6);
      expect(byReader.readerExtracted).toBe(onMain.outcome.imported + onMain.outcome.failed);
      expect(rowsOnly(byReader)).toEqual(rowsOnly(onMain));
      const row = (id: string) => onMain.rows.find((r: { id: string }) => r.id === id);
      expect(row('00000000-0000-7000-8000-000000000101').preview).toContain('世界');
      expect(row('00000000-0000-7000-8000-000000000103').cwd).toBe(realpathSync(realDir));
    });
  }

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
    const outcome = await runBackfill(runtime, { codexHome: home });
    expect(outcome.imported).toBe(12);
    expect(settings()).toEqual(before);
  });

  it('an empty home completes at once', async () => {
    const db = await init({ codexHome: makeTempDir() });
    expect((await readBackfillState(db)).status).toBe('complete');
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
    await whileLeaseHeld(home, async () => {
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
    });
  });

  it('a failed open says where the damaged DB it moved aside went', async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 3);
    await whileLeaseHeld(home, async () => {
      // The holder's WAL would still answer the pages: the whole DB is lost.
      for (const suffix of ['-wal', '-shm']) unlinkSync(join(home, stateDbFileName() + suffix));
      writeFileSync(join(home, stateDbFileName()), Buffer.alloc(8192, 0x5a));
      const started = await startStateDb({ codexHome: home });
      expect(started.stateDb).toBeUndefined();
      expect(started.reason).toMatch(
        /^timed out waiting for state db backfill .*\(the state DB was damaged: moved to .*db-backups\/sqlite-\d+-\d+; the index is rebuilt from the rollout files\)$/,
      );
      expect(started.error).toMatchObject({ code: 'BackfillTimedOut' });
    });
  });

  it('startStateDb answers at once beside a live backfill and hands over the index when it completes', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 4);
    // Wrapped: a promise returned as is would be awaited while the lease is still held.
    const { ready } = await whileLeaseHeld(home, async () => {
      const started = Date.now();
      const opened = await startStateDb({ codexHome: home, backgroundWaitMs: 20_000, pollMs: 100 });
      // No 30 s wait: the caller answers from the files meanwhile.
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(opened.stateDb).toBeUndefined();
      expect(opened.reason).toMatch(/backfill/);
      expect(opened.ready).not.toBeNull();
      return { ready: opened.ready };
    });
    // The holder died: the waiting side takes the import over and gets the handle.
    const db = await ready;
    expect(db).toBeDefined();
    handles.push(db as StateDb);
    expect(rowCount(db as StateDb)).toBe(threads.length);
    // And a caller that does not wait in the background just gets no handle.
    const quiet = await startStateDb({ codexHome: makeTempDir() });
    expect(quiet.stateDb).toBeDefined();
    handles.push(quiet.stateDb as StateDb);
  });

  it('a background wait for another backfill ends when the caller aborts it', async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 2);
    await whileLeaseHeld(home, async () => {
      const stop = new AbortController();
      const opened = await startStateDb({
        codexHome: home,
        backgroundWaitMs: 60_000,
        pollMs: 100,
        signal: stop.signal,
      });
      const started = Date.now();
      stop.abort();
      expect(await opened.ready).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2_000);
    });
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

  /** Codex's own claim, as its process writes it: the row `running` at `updatedAt` seconds. */
  async function codexHoldsBackfill(home: string, updatedAtSeconds: number): Promise<void> {
    const runtime = await StateRuntime.open({ sqliteHome: home });
    runtime.sqlite
      .prepare(`update backfill_state set status = 'running', updated_at = ? where id = 1`)
      .run(updatedAtSeconds);
    await runtime.close();
  }

  it("waits for Codex's own fresh backfill lease (never steals it) and times out", async () => {
    const home = makeTempDir();
    writeLegacyHome(home, 3);
    await codexHoldsBackfill(home, Math.floor(Date.now() / 1000) - 60);
    await expect(initStateDb({ codexHome: home, waitMs: 1200, pollMs: 200 })).rejects.toMatchObject(
      { code: 'BackfillTimedOut' },
    );
    const db = await init({ codexHome: home, waitMs: 0 }).catch(() => null);
    expect(db).toBeNull();
  });

  it("takes over Codex's backfill lease once it is 900 s old, as Codex would", async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 4);
    await codexHoldsBackfill(home, Math.floor(Date.now() / 1000) - 901);
    const started = Date.now();
    const db = await init({ codexHome: home, waitMs: 30_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(rowCount(db)).toBe(threads.length);
    expect((await readBackfillState(db)).status).toBe('complete');
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
      const state = await readBackfillState(db);
      // Imported once: the waiter did not run its own import next to the worker's.
      expect(state.filesDone).toBe(threads.length);
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  /**
   * A backfill of `home` in a child (batches of 4, a long pause after each; with
   * `bulkBudgetMs`, as a bulk first import), killed (kill -9) once 8 files are done: what it
   * left, opened here.
   */
  async function killedAfterEight(home: string, bulkBudgetMs?: string): Promise<StateRuntime> {
    const args = ['slow-backfill', home, home, '4', '5000'];
    const worker = startChild(bulkBudgetMs === undefined ? args : [...args, bulkBudgetMs]);
    await worker.waitFor((l) => l === 'progress 8');
    worker.child.kill('SIGKILL');
    await worker.exited;
    return StateRuntime.open({ sqliteHome: home });
  }

  /** Codex's DB keeps every index of a fresh one, whenever an import is killed. */
  async function expectFreshIndexes(db: StateDb): Promise<void> {
    const reference = await StateRuntime.open({ sqliteHome: makeTempDir() });
    expect(indexNames(db)).toEqual(indexNames(reference));
    expect(indexNames(db).length).toBeGreaterThan(5);
    await reference.close();
  }

  /** The next start completes the import, counting and indexing each thread once. */
  async function expectResumedOnce(home: string, threads: number): Promise<void> {
    const db = await init({ codexHome: home, waitMs: 10_000 });
    const state = await readBackfillState(db);
    expect(state.status).toBe('complete');
    expect(state.filesDone).toBe(threads);
    expect(rowCount(db)).toBe(threads);
  }

  it('a backfill killed midway (kill -9) resumes from its watermark and indexes every thread once', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 40);
    const crashed = await killedAfterEight(home);
    const mid = await readBackfillState(crashed);
    expect(mid.status).toBe('running');
    const sorted = threads.map((t) => t.rel).sort();
    expect(mid.lastWatermark).toBe(sorted[7]);
    expect(rowCount(crashed)).toBe(8);
    await expectFreshIndexes(crashed);
    await crashed.close();
    // 8 before the crash + 32 after, none twice.
    await expectResumedOnce(home, threads.length);
  });

  it('a bulk first import killed midway (kill -9) leaves the table empty with every index; the next run imports each thread once', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 40);
    // One transaction for the whole import (a lock budget it never reaches).
    const crashed = await killedAfterEight(home, '600000');
    const mid = await readBackfillState(crashed);
    expect(mid.status).toBe('running');
    expect(mid.lastWatermark).toBeNull();
    expect(mid.filesDone).toBe(0);
    expect(rowCount(crashed)).toBe(0);
    await expectFreshIndexes(crashed);
    await crashed.close();
    await expectResumedOnce(home, threads.length);
  });

  it('a bulk first import that outlasts its lock budget commits and goes on batch by batch', async () => {
    const home = makeTempDir();
    const threads = writeLegacyHome(home, 40);
    // A budget of 0 ms: the first batch commits the bulk transaction, the next ones commit alone.
    const crashed = await killedAfterEight(home, '0');
    const mid = await readBackfillState(crashed);
    const sorted = threads.map((t) => t.rel).sort();
    expect(mid.lastWatermark).toBe(sorted[7]);
    expect(mid.filesDone).toBe(8);
    expect(rowCount(crashed)).toBe(8);
    await expectFreshIndexes(crashed);
    await crashed.close();
  });
});

describe('backfill of the fixture homes', () => {
  /**
   * Columns only a live Codex process writes (Codex's own backfill derives them from the file
   * as Skein does): turn and write times, the creation instant (the live row takes the id's
   * clock, a backfill the session_meta timestamp), the archive time (a backfill takes the
   * file's mtime).
   */
  const LIVE_ONLY = new Set([
    'updated_at',
    'updated_at_ms',
    'recency_at',
    'recency_at_ms',
    'created_at_ms',
    'archived_at',
  ]);
  for (const name of FIXTURE_NAMES) {
    it(`${name}: imports rows equal to the ones Codex wrote, but for live-only and explicit columns`, async () => {
      const { home, manifest } = installFixtureHome(name);
      renameSync(join(home, 'state_5.sqlite'), join(home, 'codex-original.sqlite'));
      const db = await init({ codexHome: home });
      expect(db.codexVersion).toBe(manifest.codexVersion);
      const codex = new BetterSqlite3(join(home, 'codex-original.sqlite'), { readonly: true });
      try {
        const codexRows = codex.prepare('select * from threads').all() as Record<string, unknown>[];
        expect(rowCount(db)).toBe(codexRows.length);
        expect(codexRows.length).toBe(manifest.threads.filter((t) => t.persisted).length);
        for (const theirs of codexRows) {
          const t = manifest.threads.find((m) => m.id === theirs.id)!;
          const ours = db.sqlite.prepare('select * from threads where id = ?').get(t.id) as Record<
            string,
            unknown
          >;
          const actions = t.actions.map(String).join(' ');
          // Explicit mutations live in Codex's DB only: a rename (name, or a legacy title), a
          // git update through the API (0.169 keeps it out of the rollout).
          const explicit = new Set(['name']);
          if (actions.includes('name/set')) explicit.add('title');
          if (actions.includes('metadata/update') && name === 'codex-0.169') {
            for (const c of ['git_sha', 'git_branch', 'git_origin_url']) explicit.add(c);
          }
          for (const [column, value] of Object.entries(theirs)) {
            if (LIVE_ONLY.has(column) || explicit.has(column)) continue;
            expect(ours[column], `${t.key}.${column}`).toEqual(value);
          }
        }
        const edges = (d: { prepare: (s: string) => { all: () => unknown[] } }) =>
          d.prepare('select * from thread_spawn_edges order by child_thread_id').all();
        expect(edges(db.sqlite)).toEqual(edges(codex));
      } finally {
        codex.close();
      }
    });
  }
});
