import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, makeTempDir } from '@skein/test-support';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { readMigrationRows, readProfile } from '../src/db-file.js';
import {
  getThread,
  identifySchema,
  KNOWN_HISTORY_SCHEMAS,
  KNOWN_STATE_SCHEMAS,
  listRenameIntents,
  listThreads,
  readBackfillState,
  SIDECAR_FILE_NAME,
  StateRuntime,
  stateDbPath,
  upsertThread,
} from '../src/index.js';
import { handOverSidecarStandIns } from '../src/sidecar/handover.js';
import { closeOpened, openRuntime, sampleThread } from './helpers.js';

const open = openRuntime;
afterEach(closeOpened);

/** Schema objects and migration rows as SQLite stores them, for before/after comparisons. */
function snapshot(path: string): { schema: string[]; migrations: string[] } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return {
      schema: (
        db.prepare(`select type, name, sql from sqlite_master order by type, name`).all() as {
          type: string;
          name: string;
          sql: string | null;
        }[]
      ).map((row) => `${row.type} ${row.name}: ${row.sql}`),
      migrations: (
        db
          .prepare(
            `select version, description, lower(hex(checksum)) as c, success from _sqlx_migrations order by version`,
          )
          .all() as { version: number; description: string; c: string; success: number }[]
      ).map((row) => `${row.version} ${row.description} ${row.c} ${row.success}`),
    };
  } finally {
    db.close();
  }
}

function recordedSnapshot(recorded: (typeof KNOWN_STATE_SCHEMAS)[number]) {
  return {
    schema: recorded.schema.map((o) => `${o.type} ${o.name}: ${o.sql}`).sort(),
    migrations: recorded.migrations.map(
      (m) => `${m.version} ${m.description} ${m.checksum} ${m.success ? 1 : 0}`,
    ),
  };
}

/** The snapshot without SQLite's own objects (autoindexes, sqlite_sequence), sorted. */
function userObjects(s: { schema: string[]; migrations: string[] }) {
  return {
    schema: s.schema.filter((line) => !/^\w+ sqlite_/.test(line)).sort(),
    migrations: s.migrations,
  };
}

describe('StateRuntime on a Codex home', () => {
  it("creates Codex's own state_5.sqlite from the oldest recorded schema when the home has none", async () => {
    const dir = makeTempDir();
    const runtime = await open(dir);
    expect(runtime.path).toBe(stateDbPath(dir));
    expect(runtime.created).toBe(true);
    expect(runtime.codexVersion).toBe('0.131.0');
    expect(runtime.readOnlyReason).toBeNull();
    expect(runtime.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(runtime.sqlite.pragma('synchronous', { simple: true })).toBe(1);
    expect(runtime.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(runtime.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(runtime.sqlite.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(userObjects(snapshot(runtime.path))).toEqual(recordedSnapshot(KNOWN_STATE_SCHEMAS[0]!));
    expect((await readBackfillState(runtime)).status).toBe('pending');
    expect(existsSync(join(dir, SIDECAR_FILE_NAME))).toBe(true);
  });

  it("creates 0.169's schema in a home that has a 0.169 history DB but lost its state DB", async () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'thread_history_1.sqlite'), '');
    const runtime = await open(dir);
    expect(runtime.codexVersion).toBe('0.169.0');
    expect(userObjects(snapshot(runtime.path))).toEqual(recordedSnapshot(KNOWN_STATE_SCHEMAS[1]!));
    expect(runtime.profile.tables.has('thread_read_receipts')).toBe(true);
  });

  for (const fixture of ['codex-0.131', 'codex-0.169'] as const) {
    it(`opens the ${fixture} fixture as that Codex version and never changes its schema`, async () => {
      const { home, manifest } = installFixtureHome(fixture);
      const before = snapshot(stateDbPath(home));
      const runtime = await open(home);
      expect(runtime.created).toBe(false);
      expect(runtime.codexVersion).toBe(`${manifest.codexVersion}`.replace(/^codex-cli /, ''));
      const page = await listThreads(runtime.ctx, { pageSize: 100 });
      expect(page.items.length).toBeGreaterThan(5);
      await upsertThread(runtime.ctx, sampleThread());
      await runtime.close();
      expect(snapshot(stateDbPath(home))).toEqual(before);
    });
  }

  it('creates a 0.169 history DB from the recording only when asked, and reads it back', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir, '0.169.0');
    expect(runtime.historyDb()).toBeUndefined();
    const history = runtime.historyDb({ create: true })!;
    expect(history.readOnlyReason).toBeNull();
    const path = join(dir, 'thread_history_1.sqlite');
    expect(userObjects(snapshot(path))).toEqual(recordedSnapshot(KNOWN_HISTORY_SCHEMAS[0]!));
    expect(history.projectionState('x')).toBeUndefined();
  });

  it('names a damaged history DB in the error of every call that opens it, and leaves it be', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir, '0.169.0');
    const path = join(dir, 'thread_history_1.sqlite');
    const damaged = Buffer.from('not a database '.repeat(300));
    writeFileSync(path, damaged);
    for (const options of [{}, { create: true }]) {
      expect(() => runtime.historyDb(options)).toThrow(
        `cannot open history DB ${path}: file is not a database`,
      );
    }
    // Codex's own file: what it holds stays for Codex (and doctor) to see.
    expect(readFileSync(path)).toEqual(damaged);
  });

  it('moves only a damaged history DB aside, keeping its bytes, for a fresh one', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir, '0.169.0');
    const path = join(dir, 'thread_history_1.sqlite');
    // None, then a sound one: nothing to move.
    expect(runtime.moveDamagedHistoryDbAside()).toBeNull();
    runtime.historyDb({ create: true });
    expect(runtime.moveDamagedHistoryDbAside()).toBeNull();
    await runtime.close();
    const damaged = Buffer.from('not a database '.repeat(300));
    writeFileSync(path, damaged);
    const reopened = await open(dir, '0.169.0');
    const backup = reopened.moveDamagedHistoryDbAside() as string;
    expect(readFileSync(join(backup, 'thread_history_1.sqlite'))).toEqual(damaged);
    expect(existsSync(path)).toBe(false);
    expect(reopened.historyDb({ create: true })?.readOnlyReason).toBeNull();
    // Something SQLite cannot open that is no damaged DB (a folder) stays where it is.
    await reopened.close();
    rmSync(path);
    mkdirSync(path);
    const third = await open(dir, '0.169.0');
    expect(() => third.moveDamagedHistoryDbAside()).toThrow(/cannot open history DB/);
    expect(readdirSync(join(dir, 'db-backups'))).toHaveLength(1);
  });

  it('reads but never writes a DB with a migration no known Codex wrote (a newer Codex)', async () => {
    const { home } = installFixtureHome('codex-0.169');
    const path = stateDbPath(home);
    const db = new BetterSqlite3(path);
    db.prepare(
      `insert into _sqlx_migrations (version, description, success, checksum, execution_time)
       values (63, 'from the future', 1, x'00', 0)`,
    ).run();
    db.close();
    const before = snapshot(path);
    const runtime = await open(home);
    expect(runtime.codexVersion).toBeNull();
    expect(runtime.readOnlyReason).toMatch(/newer than Codex 0\.169\.0 .*63/);
    expect((await listThreads(runtime.ctx, { pageSize: 100 })).items.length).toBeGreaterThan(5);
    await expect(upsertThread(runtime.ctx, sampleThread())).rejects.toMatchObject({
      code: 'ReadOnly',
    });
    await runtime.close();
    expect(snapshot(path)).toEqual(before);
  });

  it('treats a changed checksum as an unknown schema (read only)', async () => {
    const { home } = installFixtureHome('codex-0.131');
    const db = new BetterSqlite3(stateDbPath(home));
    db.prepare(`update _sqlx_migrations set checksum = x'01' where version = 5`).run();
    db.close();
    const runtime = await open(home);
    expect(runtime.readOnlyReason).toMatch(/migration 5 has a checksum no known Codex wrote/);
  });

  it('sees a migration another process applies while it has the DB open', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir);
    expect([runtime.codexVersion, runtime.profile.columns.has('name')]).toEqual(['0.131.0', false]);
    // What a newer Codex starting beside it does (here by hand): new columns, tables, rows.
    const other = new BetterSqlite3(stateDbPath(dir));
    other.exec('alter table threads add column name text');
    other.exec(
      'create table thread_read_receipts (thread_id text primary key not null, first_unread_turn text, revision text not null, last_published_turn text)',
    );
    const insert = other.prepare(
      `insert or ignore into _sqlx_migrations (version, description, success, checksum, execution_time)
       values (?, ?, 1, ?, 0)`,
    );
    for (const m of KNOWN_STATE_SCHEMAS[1]!.migrations) {
      insert.run(m.version, m.description, Buffer.from(m.checksum, 'hex'));
    }
    other.close();
    expect(runtime.codexVersion).toBe('0.169.0');
    expect(runtime.profile.columns.has('name')).toBe(true);
    expect(runtime.profile.tables.has('thread_read_receipts')).toBe(true);
  });

  it('shares one handle per file within a process', async () => {
    const dir = makeTempDir();
    const a = await open(dir);
    const b = await StateRuntime.open({ sqliteHome: dir });
    expect(b).toBe(a);
    await b.close();
    expect(a.isClosed).toBe(false);
  });

  it('tolerates a sidecar migration from a newer Skein it does not know', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    const thread = sampleThread();
    await upsertThread(first.ctx, thread);
    await first.close();
    const sidecar = new BetterSqlite3(join(dir, SIDECAR_FILE_NAME));
    sidecar
      .prepare('insert into skein_migration (name, timestamp) values (?, ?)')
      .run('9999_from_the_future', new Date().toISOString());
    sidecar.close();
    const again = await open(dir);
    expect((await getThread(again.ctx, thread.id))?.id).toBe(thread.id);
  });

  // Opening a home Skein has opened before takes no write lock on either file: a command that
  // opens the home while Codex or another process writes goes on at once (the sidecar's
  // migrations, the receipts hand-over and the recency completion used to take the files' write
  // locks at every open, waiting out a writer and then failing the open). 0.131: the sidecar is
  // attached to Codex's connection and keeps recency; 0.169: the sidecar on its own connection.
  it.each(['0.131.0', '0.169.0'])(
    "opens a home again while other connections hold both files' write locks (%s schema)",
    async (schema) => {
      const dir = makeTempDir();
      await (await open(dir, schema)).close();
      const writers = [stateDbPath(dir), join(dir, SIDECAR_FILE_NAME)].map((path) => {
        const writer = new BetterSqlite3(path);
        writer.exec('BEGIN IMMEDIATE');
        return writer;
      });
      try {
        const again = await StateRuntime.open({ sqliteHome: dir, busyTimeoutMs: 0 });
        try {
          expect(await listRenameIntents(again)).toEqual([]);
          expect(again.readOnlyReason).toBeNull();
        } finally {
          await again.close();
        }
      } finally {
        for (const writer of writers) {
          writer.exec('ROLLBACK');
          writer.close();
        }
      }
    },
  );

  it('looks before it hands receipts over: none held, no write transaction', async () => {
    const dir = makeTempDir();
    await (await open(dir, '0.169.0')).close();
    const writer = new BetterSqlite3(stateDbPath(dir));
    writer.exec('BEGIN IMMEDIATE');
    const sqlite = new BetterSqlite3(stateDbPath(dir));
    sqlite.pragma('busy_timeout = 0');
    try {
      const identity = identifySchema(readMigrationRows(sqlite), KNOWN_STATE_SCHEMAS);
      const profile = readProfile(sqlite, identity);
      expect(handOverSidecarStandIns(sqlite, join(dir, SIDECAR_FILE_NAME), profile)).toBe(0);
    } finally {
      sqlite.close();
      writer.exec('ROLLBACK');
      writer.close();
    }
  });

  it('applies a sidecar migration the file lacks when it opens', async () => {
    const dir = makeTempDir();
    await (await open(dir, '0.169.0')).close();
    const sidecar = new BetterSqlite3(join(dir, SIDECAR_FILE_NAME));
    sidecar.exec(`drop table rename_intents;
      delete from skein_migration where name = '0003_rename_intents'`);
    sidecar.close();
    const again = await open(dir, '0.169.0');
    expect(await listRenameIntents(again)).toEqual([]);
    const check = new BetterSqlite3(join(dir, SIDECAR_FILE_NAME), { readonly: true });
    const names = check.prepare('select name from skein_migration order by name').pluck().all();
    check.close();
    expect(names).toContain('0003_rename_intents');
  });

  it('moves a corrupt DB (and its -wal/-shm) to db-backups/ and starts a fresh one', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    await upsertThread(first.ctx, sampleThread());
    await first.close();
    const path = stateDbPath(dir);
    writeFileSync(path, Buffer.alloc(8192, 0x5a)); // not a database any more
    writeFileSync(`${path}-wal`, 'junk');
    const runtime = await open(dir);
    expect(runtime.recoveredBackupDir).toMatch(/db-backups\/sqlite-\d+-0$/);
    const backed = readdirSync(runtime.recoveredBackupDir!).sort();
    // SQLite itself may drop an unreadable -wal when the failed connection closes.
    expect(backed).toContain('state_5.sqlite');
    expect(runtime.sqlite.pragma('quick_check', { simple: true })).toBe('ok');
    const count = runtime.sqlite.prepare('select count(*) as n from threads').get() as {
      n: number;
    };
    expect(count.n).toBe(0);
    expect(runtime.codexVersion).toBe('0.131.0');
  });

  it('detects corruption inside a page, not only a bad header', async () => {
    const dir = makeTempDir();
    const first = await open(dir);
    for (let i = 0; i < 200; i += 1)
      await upsertThread(first.ctx, sampleThread({ preview: 'x'.repeat(200) }));
    first.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await first.close();
    const path = stateDbPath(dir);
    const bytes = readFileSync(path);
    // Scribble over the middle pages, keeping the 100-byte header intact.
    bytes.fill(0xff, 4096 * 2, 4096 * 6);
    writeFileSync(path, bytes);
    const runtime = await open(dir);
    expect(runtime.recoveredBackupDir).not.toBeNull();
  });
});
