/**
 * The CLI on a home whose DBs Codex keeps elsewhere (`CODEX_SQLITE_HOME`, relative to the run's
 * working directory): commands, `backfill` and `doctor` use the DBs there and never start a
 * second index in the home. The recorded 0.169.0 home with its DB files moved.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { getThread, StateRuntime } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, skein, sqliteFiles } from './helpers.js';

/** A thread of the fixture session_index.jsonl does not name. */
const KIWI = '01a20154-1dfc-75d2-8b53-26d7ad3a28f7';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) removeTempDir(dir);
});

describe('CODEX_SQLITE_HOME', () => {
  it('is where rename, backfill and doctor find the index', async () => {
    const { home } = fixture('codex-0.169');
    const workdir = makeTempDir('skein-cli-sqlite-home-');
    temps.push(home, workdir);
    const dbDir = join(workdir, 'db');
    mkdirSync(dbDir);
    for (const name of sqliteFiles(home)) renameSync(join(home, name), join(dbDir, name));
    const run = (args: string[]) =>
      skein(args, { home, env: { CODEX_SQLITE_HOME: 'db' }, cwd: workdir });

    expect((await run(['rename', KIWI, 'Renamed by the CLI'])).code).toBe(0);
    const state = await StateRuntime.open({ sqliteHome: dbDir });
    try {
      expect((await getThread(state.ctx, KIWI))?.name).toBe('Renamed by the CLI');
    } finally {
      await state.close();
    }

    // The moved DB is complete: nothing to import again.
    const backfill = await run(['backfill', '--json']);
    expect(backfill.code).toBe(0);
    expect(JSON.parse(backfill.stdout)).toMatchObject({
      status: 'complete',
      alreadyComplete: true,
    });
    const doctor = await run(['doctor', '--json']);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ stateDb: { exists: true } });

    expect(sqliteFiles(home)).toEqual([]);
    expect(readdirSync(dbDir)).toContain('skein_1.sqlite');
  });
});
