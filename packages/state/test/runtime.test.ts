import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appliedStateMigrations,
  getThread,
  migrateStateSchema,
  STATE_MIGRATION_NAMES,
  STATE_MIGRATION_TABLE,
  type StateDatabase,
  StateRuntime,
  stateDbFileName,
  upsertThread,
} from '../src/index.js';
import { sampleThread } from './helpers.js';

const opened: StateRuntime[] = [];
async function open(dir: string): Promise<StateRuntime> {
  const runtime = await StateRuntime.open({ sqliteHome: dir });
  opened.push(runtime);
  return runtime;
}
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close();
});

/** The schema as SQLite describes it (tables and indexes), for comparing two DBs. */
function schemaOf(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (
      db
        .prepare(
          `select type, name, sql from sqlite_master
            where name not like 'sqlite_%' and name not like 'skein_migration%' order by type, name`,
        )
        .all() as { type: string; name: string; sql: string | null }[]
    ).map((row) => `${row.type} ${row.name}: ${row.sql}`);
  } finally {
    db.close();
  }
}

describe('StateRuntime', () => {
  it('opens skein_state_<v>.sqlite with WAL, NORMAL sync, foreign keys and a busy timeout', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir);
    expect(runtime.path).toBe(join(dir, stateDbFileName()));
    expect(existsSync(runtime.path)).toBe(true);
    expect(runtime.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(runtime.sqlite.pragma('synchronous', { simple: true })).toBe(1);
    expect(runtime.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(runtime.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(await appliedStateMigrations(runtime.db)).toEqual(STATE_MIGRATION_NAMES);
  });

  it("refuses Codex's own database files", async () => {
    const dir = makeTempDir();
    await expect(
      StateRuntime.open({ sqliteHome: dir, fileName: 'state_5.sqlite' }),
    ).rejects.toMatchObject({
      code: 'OpenFailed',
    });
    expect(existsSync(join(dir, 'state_5.sqlite'))).toBe(false);
  });

  it('shares one handle per file within a process', async () => {
    const dir = makeTempDir();
    const a = await open(dir);
    const b = await StateRuntime.open({ sqliteHome: dir });
    expect(b).toBe(a);
    await b.close();
    expect(a.isClosed).toBe(false);
  });

  it('migrates from empty and from every earlier version to the same schema', async () => {
    const reference = makeTempDir();
    (await open(reference)).sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const expected = schemaOf(join(reference, stateDbFileName()));
    expect(expected.some((line) => line.startsWith('table threads'))).toBe(true);

    for (let applied = 0; applied <= STATE_MIGRATION_NAMES.length; applied += 1) {
      const dir = makeTempDir();
      const path = join(dir, stateDbFileName());
      if (applied > 0) {
        const db = new Kysely<StateDatabase>({
          dialect: new SqliteDialect({ database: new BetterSqlite3(path) }),
        });
        await migrateStateSchema(db, { target: STATE_MIGRATION_NAMES[applied - 1]! });
        expect(await appliedStateMigrations(db)).toEqual(STATE_MIGRATION_NAMES.slice(0, applied));
        await db.destroy();
      }
      const runtime = await open(dir);
      expect(await appliedStateMigrations(runtime.db)).toEqual(STATE_MIGRATION_NAMES);
      const thread = sampleThread();
      await upsertThread(runtime.ctx, thread);
      expect((await getThread(runtime.ctx, thread.id))?.preview).toBe(thread.preview);
      await runtime.close();
      expect(schemaOf(path)).toEqual(expected);
    }
  });

  it('tolerates a migration from a newer Skein it does not know', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    const thread = sampleThread();
    await upsertThread(first.ctx, thread);
    first.sqlite
      .prepare(`insert into ${STATE_MIGRATION_TABLE} (name, timestamp) values (?, ?)`)
      .run('9999_from_the_future', new Date().toISOString());
    await first.close();
    const again = await open(dir);
    expect(await appliedStateMigrations(again.db)).toContain('9999_from_the_future');
    expect((await getThread(again.ctx, thread.id))?.id).toBe(thread.id);
  });

  it('moves a corrupt DB (and its -wal/-shm) to db-backups/ and starts a fresh one', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    await upsertThread(first.ctx, sampleThread());
    await first.close();
    const path = join(dir, stateDbFileName());
    writeFileSync(path, Buffer.alloc(8192, 0x5a)); // not a database any more
    writeFileSync(`${path}-wal`, 'junk');
    const runtime = await open(dir);
    expect(runtime.recoveredBackupDir).toMatch(/db-backups\/sqlite-\d+-0$/);
    const backed = readdirSync(runtime.recoveredBackupDir!).sort();
    // SQLite itself may drop an unreadable -wal when the failed connection closes.
    expect(backed).toContain(stateDbFileName());
    expect(runtime.sqlite.pragma('quick_check', { simple: true })).toBe('ok');
    const count = runtime.sqlite.prepare('select count(*) as n from threads').get() as {
      n: number;
    };
    expect(count.n).toBe(0);
  });

  it('detects corruption inside a page, not only a bad header', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    for (let i = 0; i < 200; i += 1)
      await upsertThread(first.ctx, sampleThread({ preview: 'x'.repeat(200) }));
    first.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await first.close();
    const path = join(dir, stateDbFileName());
    const bytes = (await import('node:fs')).readFileSync(path);
    // Scribble over the middle pages, keeping the 100-byte header intact.
    bytes.fill(0xff, 4096 * 2, 4096 * 6);
    writeFileSync(path, bytes);
    const runtime = await open(dir);
    expect(runtime.recoveredBackupDir).not.toBeNull();
  });
});
