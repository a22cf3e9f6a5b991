import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CodexCli } from './codex-cli.js';
import { StdioJsonRpcClient } from './stdio-jsonrpc.js';
import { makeTempDir, removeTempDir } from './temp.js';

/** One `_sqlx_migrations` row as Codex wrote it (checksum as lowercase hex). */
export interface RecordedMigration {
  version: number;
  description: string;
  checksum: string;
  success: boolean;
}

/** One `sqlite_master` entry with SQL (SQLite's own autoindexes and `sqlite_sequence` left out). */
export interface RecordedSchemaObject {
  type: 'table' | 'index' | 'trigger' | 'view';
  name: string;
  tableName: string;
  sql: string;
}

/** What a Codex binary creates in one of its SQLite files on a fresh home. */
export interface RecordedCodexDb {
  codexVersion: string;
  database: string;
  pragmas: { auto_vacuum: number; page_size: number };
  migrations: RecordedMigration[];
  /** In `sqlite_master` order, so replaying it recreates the schema. */
  schema: RecordedSchemaObject[];
  /** Rows a fresh DB holds besides migrations, the backfill singleton and per-thread rows. */
  seedRows: Record<string, Record<string, unknown>[]>;
}

const NOT_SEED = new Set(['_sqlx_migrations', 'backfill_state', 'sqlite_sequence']);

/** Reads the schema, migration rows and seed rows of a SQLite file (WAL contents included). */
export function dumpCodexDb(path: string, codexVersion: string, database: string): RecordedCodexDb {
  const db = new Database(path, { readonly: true });
  try {
    const migrations = (
      db
        .prepare(
          'select version, description, lower(hex(checksum)) as checksum, success from _sqlx_migrations order by version',
        )
        .all() as { version: number; description: string; checksum: string; success: number }[]
    ).map((row) => ({ ...row, success: row.success !== 0 }));
    const schema = (
      db
        .prepare(
          `select type, name, tbl_name as tableName, sql from sqlite_master
            where sql is not null and name <> 'sqlite_sequence' order by rowid`,
        )
        .all() as RecordedSchemaObject[]
    ).map((row) => ({ type: row.type, name: row.name, tableName: row.tableName, sql: row.sql }));
    const seedRows: Record<string, Record<string, unknown>[]> = {};
    for (const object of schema) {
      if (object.type !== 'table' || NOT_SEED.has(object.name)) continue;
      // Per-thread rows (the recorder's own probe thread) are not part of a fresh DB.
      const columns = db.prepare(`pragma table_info("${object.name}")`).all() as { name: string }[];
      if (columns.some((column) => column.name === 'thread_id')) continue;
      const rows = db.prepare(`select * from "${object.name}" order by rowid`).all() as Record<
        string,
        unknown
      >[];
      if (rows.length > 0) seedRows[object.name] = rows;
    }
    return {
      codexVersion,
      database,
      pragmas: {
        auto_vacuum: Number(db.pragma('auto_vacuum', { simple: true })),
        page_size: Number(db.pragma('page_size', { simple: true })),
      },
      migrations,
      schema,
      seedRows,
    };
  } finally {
    db.close();
  }
}

/**
 * Runs the real `codex app-server` on an empty temp home and records the SQLite files it
 * creates: `state_5.sqlite` always, `thread_history_1.sqlite` where the version has one (it is
 * created lazily, by the first paginated history read, which this provokes).
 */
export async function recordCodexDbs(cli: CodexCli): Promise<RecordedCodexDb[]> {
  const home = makeTempDir(`skein-codex-schema-${cli.version}-`);
  const client = new StdioJsonRpcClient(cli.binary, ['app-server'], {
    cwd: home,
    env: { ...process.env, CODEX_HOME: home, RUST_LOG: 'error' },
  });
  try {
    await client.initialize('skein-schema-recorder', true);
    await client.request('thread/list', {});
    const started = (await client.request('thread/start', {})) as { thread: { id: string } };
    // Fails on a pristine thread (as it should); 0.169 opens its history DB on the way.
    await client
      .request('thread/read', { threadId: started.thread.id, includeTurns: true })
      .catch(() => undefined);
    await client.close();
    const recorded = [dumpCodexDb(join(home, 'state_5.sqlite'), cli.version, 'state_5.sqlite')];
    const history = join(home, 'thread_history_1.sqlite');
    if (existsSync(history))
      recorded.push(dumpCodexDb(history, cli.version, 'thread_history_1.sqlite'));
    return recorded;
  } finally {
    await client.close();
    removeTempDir(home);
  }
}
