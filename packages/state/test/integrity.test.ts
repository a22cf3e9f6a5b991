import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SIDECAR_FILE_NAME, stateDbPath, upsertThread } from '../src/index.js';
import { CHECK_RECORD_FILE } from '../src/integrity.js';
import { closeOpened, openRuntime, sampleThread } from './helpers.js';

afterEach(closeOpened);

/** An hour ago, in whole seconds: settled by the racy-stat rule, and the same every time. */
const AGED_S = Math.floor(Date.now() / 1000) - 3600;

/** Sets every DB file of the home (and WAL) to the same old mtime. */
function ageFiles(dir: string): void {
  for (const file of [stateDbPath(dir), join(dir, SIDECAR_FILE_NAME)]) {
    for (const path of [file, `${file}-wal`]) {
      if (existsSync(path)) utimesSync(path, AGED_S, AGED_S);
    }
  }
}

/** When each file last passed a check, as its record says. */
function checkedAt(dir: string): { codexDb: string | null; sidecar: string | null } {
  const recordPath = join(dir, CHECK_RECORD_FILE);
  const records = existsSync(recordPath)
    ? (JSON.parse(readFileSync(recordPath, 'utf8')) as Record<string, { checkedAtNs: string }>)
    : {};
  return {
    codexDb: records['state_5.sqlite']?.checkedAtNs ?? null,
    sidecar: records[SIDECAR_FILE_NAME]?.checkedAtNs ?? null,
  };
}

async function openAndClose(dir: string, schema: string): Promise<void> {
  await (await openRuntime(dir, schema)).close();
}

/**
 * Opens until both files' records are trusted: a file is recorded at its check, but a record
 * of a file written just before is not trusted (the racy-mtime rule), so the files are aged
 * before each open.
 */
async function settle(dir: string, schema: string): Promise<void> {
  await openAndClose(dir, schema);
  for (let i = 0; i < 2; i += 1) {
    ageFiles(dir);
    await openAndClose(dir, schema);
  }
}

describe('the integrity check at open', () => {
  for (const schema of ['0.131.0', '0.169.0']) {
    it(`skips both files while they are as they were at a passing check (${schema})`, async () => {
      const dir = makeTempDir();
      await settle(dir, schema);
      const settled = checkedAt(dir);
      expect(settled.codexDb).not.toBeNull();
      expect(settled.sidecar).not.toBeNull();
      await openAndClose(dir, schema);
      await openAndClose(dir, schema);
      expect(checkedAt(dir)).toEqual(settled);

      // A write to Codex's DB changes its mtime: it is checked again at the next open.
      const runtime = await openRuntime(dir, schema);
      await upsertThread(runtime.ctx, sampleThread());
      await runtime.close();
      await openAndClose(dir, schema);
      const after = checkedAt(dir);
      expect(after.codexDb).not.toBe(settled.codexDb);
    });
  }

  it('checks the sidecar again when it changed, and when its record is unreadable', async () => {
    const dir = makeTempDir();
    await settle(dir, '0.131.0');
    const settled = checkedAt(dir);
    // Written behind Skein's back (another tool): the signature no longer matches.
    const sidecar = new BetterSqlite3(join(dir, SIDECAR_FILE_NAME));
    sidecar.exec('create table scribble (x)');
    sidecar.close();
    await openAndClose(dir, '0.131.0');
    const rechecked = checkedAt(dir);
    expect(rechecked.sidecar).not.toBe(settled.sidecar);
    expect(rechecked.codexDb).toBe(settled.codexDb);

    writeFileSync(join(dir, CHECK_RECORD_FILE), '{"skein_1.sqlite": {"dev": "1", "ino": ');
    await openAndClose(dir, '0.131.0');
    const replaced = checkedAt(dir);
    expect(replaced.sidecar).not.toBeNull();
    expect(replaced.sidecar).not.toBe(rechecked.sidecar);
  });

  it('finds a damaged sidecar, keeps it in db-backups/ and starts a fresh one', async () => {
    const dir = makeTempDir();
    const runtime = await openRuntime(dir, '0.131.0');
    for (let i = 0; i < 300; i += 1) await upsertThread(runtime.ctx, sampleThread());
    await runtime.close();
    await settle(dir, '0.131.0');
    const path = join(dir, SIDECAR_FILE_NAME);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(4096 * 6);
    // Scribble over pages past the header: quick_check, not the header, finds it.
    bytes.fill(0xff, 4096 * 2, 4096 * 6);
    writeFileSync(path, bytes);
    const recovered = await openRuntime(dir, '0.131.0');
    expect(recovered.recoveredBackupDir).toBeNull();
    const backup = recovered.recoveredSidecarBackupDir as string;
    expect(backup).toMatch(/db-backups\/sqlite-\d+-\d+$/);
    expect(readFileSync(join(backup, SIDECAR_FILE_NAME))).toEqual(bytes);
    // Codex's DB is untouched; the fresh sidecar is whole and holds every thread's recency
    // again (a 0.131 DB has no column for it).
    const count = (sql: string) => recovered.sqlite.prepare(sql).pluck().get();
    expect(count('select count(*) from threads')).toBe(300);
    expect(count('select count(*) from skein.skein_thread_recency')).toBe(300);
    expect(recovered.sqlite.pragma('skein.quick_check', { simple: true })).toBe('ok');
  });
});
