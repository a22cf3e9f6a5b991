/**
 * Opening a state DB while another process holds a write lock on it: the open waits for the
 * lock, as busy_timeout promises, instead of failing with "database is locked". SQLite answers
 * a journal-mode change that meets another connection's lock with SQLITE_BUSY at once (no busy
 * handler), which two processes opening a new home together met. A real second process holds
 * the lock, on a Codex DB in rollback-journal mode, while the runtime opens it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { StateRuntime, stateDbPath } from '../src/index.js';

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeTempDir(dir);
});

/** A child process that takes a write lock on `path`, says so, and holds it for `ms`. */
function holdWriteLock(path: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `const D = require(${JSON.stringify(betterSqlite3)});
    const db = new D(${JSON.stringify(path)});
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN IMMEDIATE');
    db.exec("update backfill_state set updated_at = updated_at");
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ released }));
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

describe('StateRuntime.open beside another process writing the DB', () => {
  it('waits for a writer of a DB in rollback-journal mode instead of failing', async () => {
    const dir = makeTempDir('skein-open-locked-');
    dirs.push(dir);
    const created = await StateRuntime.open({ sqliteHome: dir, createSchema: '0.131.0' });
    await created.close();
    const { released } = await holdWriteLock(stateDbPath(dir), 400);
    const started = Date.now();
    const runtime = await StateRuntime.open({ sqliteHome: dir });
    try {
      expect(runtime.codexVersion).toBe('0.131.0');
      // It did meet the lock (and waited it out), or the test proves nothing.
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      await runtime.close();
      await released;
    }
  });
});
