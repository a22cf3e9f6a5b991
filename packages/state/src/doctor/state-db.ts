import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createStateContext, type StateContext } from '../context.js';
import { isCorruption, readMigrationRows } from '../db-file.js';
import { errorMessage } from '../errors.js';
import { HistoryDb } from '../history-db.js';
import {
  CODEX_HISTORY_DB_FILE,
  CODEX_STATE_DB_FILE,
  describeIdentity,
  identifySchema,
  KNOWN_HISTORY_SCHEMAS,
  KNOWN_STATE_SCHEMAS,
  type SchemaIdentity,
} from '../known-schemas.js';
import { codexThreadsProfile } from '../profile.js';
import type { BackfillStatus, StateDatabase } from '../schema.js';
import type { DoctorFinding } from './finding.js';

/**
 * Doctor's checks of Codex's SQLite files in a home, made without changing them: the files are
 * opened read-only (no sidecar, no journal-mode change, no backfill row), so a diagnosis leaves
 * the home as it found it. Repairs go through the normal writer path (`StateRuntime.open` /
 * the rollout package's `initStateDb`), which creates a missing DB, moves a corrupt one aside
 * as Codex does, and finishes the backfill.
 */
export type StateDbFindingKind =
  | 'state-db-missing'
  | 'state-db-corrupt'
  | 'state-db-read-only'
  | 'state-db-integrity'
  | 'backfill-incomplete'
  | 'history-db-corrupt'
  | 'history-db-read-only'
  | 'obsolete-skein-db';

/** A finding about the state DB itself (schema, integrity, backfill, obsolete files). */
export type StateDbFinding = DoctorFinding<StateDbFindingKind>;

/**
 * What `inspectStateDb` learned about the home's DB: where it is, which Codex schema it has,
 * whether Skein writes it, and its backfill state.
 */
export interface StateDbSummary {
  path: string;
  exists: boolean;
  /** `Codex 0.169.0`, `newer than …`, `unknown (…)`; null when the DB cannot be read. */
  schema: string | null;
  codexVersion: string | null;
  /** Null when Skein writes this DB; else why it only reads it. */
  readOnlyReason: string | null;
  /** `ok`, or the first messages of `integrity_check`. */
  integrity: string | null;
  backfill: BackfillStatus | null;
  rows: number;
  historyDb: {
    path: string;
    exists: boolean;
    schema: string | null;
    /** Null when Skein writes the history DB; else why not. */
    readOnlyReason: string | null;
  };
}

/**
 * `inspectStateDb`'s result: the summary, the findings, and a read-only handle for the checks that
 * follow (null when no DB can be read).
 */
export interface StateDbInspection {
  summary: StateDbSummary;
  findings: StateDbFinding[];
  /** A read-only handle for the other checks; null when there is no readable DB. */
  reader: StateDbReader | null;
}

/** How many `integrity_check` messages a finding quotes. */
const INTEGRITY_MESSAGES = 5;
/** Files older Skein versions kept beside Codex's DB (`skein_state_<v>.sqlite`). */
const OBSOLETE_SKEIN_DB = /^skein_state_\d+\.sqlite$/;

/** Read-only handles on a home's state DB (and history DB) for the doctor's row checks. */
export class StateDbReader {
  private closed = false;

  constructor(
    readonly sqlite: Database,
    readonly ctx: StateContext,
    readonly identity: SchemaIdentity,
    /** The projection DB, when the home has a readable one. */
    readonly history: HistoryDb | undefined,
  ) {}

  /** Null when Skein may write this DB (so repairs can); else why not. */
  get readOnlyReason(): string | null {
    return this.ctx.profile.readOnlyReason;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.history?.close();
    await this.ctx.db.destroy();
  }
}

/** Inspects the state and history DBs of `sqliteHome` (the Codex home unless configured). */
export async function inspectStateDb(
  sqliteHome: string,
  options: { defaultProvider?: string } = {},
): Promise<StateDbInspection> {
  const dir = resolve(sqliteHome);
  const path = join(dir, CODEX_STATE_DB_FILE);
  const historyPath = join(dir, CODEX_HISTORY_DB_FILE);
  const findings: StateDbFinding[] = [];
  const summary: StateDbSummary = {
    path,
    exists: existsSync(path),
    schema: null,
    codexVersion: null,
    readOnlyReason: null,
    integrity: null,
    backfill: null,
    rows: 0,
    historyDb: {
      path: historyPath,
      exists: existsSync(historyPath),
      schema: null,
      readOnlyReason: null,
    },
  };
  findings.push(...obsoleteSkeinDbs(dir));
  if (!summary.exists) {
    findings.push({
      kind: 'state-db-missing',
      severity: 'warning',
      subject: CODEX_STATE_DB_FILE,
      message: 'no state DB yet (Codex and every skein command create it from the rollout files)',
      fix: 'create it and index every rollout file (the backfill)',
    });
    return { summary, findings, reader: null };
  }
  const sqlite = openReadOnly(path);
  if (typeof sqlite === 'string') {
    findings.push({
      kind: 'state-db-corrupt',
      severity: 'error',
      subject: CODEX_STATE_DB_FILE,
      message: `the state DB cannot be read: ${sqlite}`,
      fix: 'move it to db-backups/ and rebuild it from the rollout files (as Codex does)',
    });
    return { summary, findings, reader: null };
  }
  try {
    const identity = identifySchema(readMigrationRows(sqlite), KNOWN_STATE_SCHEMAS);
    summary.schema = describeIdentity(identity);
    summary.codexVersion = identity.kind === 'known' ? identity.codexVersion : null;
    const tables = tableNames(sqlite);
    if (!tables.includes('threads')) {
      summary.readOnlyReason = 'it has no threads table';
      findings.push(readOnlyFinding(summary.readOnlyReason));
      sqlite.close();
      return { summary, findings, reader: null };
    }
    summary.readOnlyReason =
      identity.kind === 'known' ? null : `its schema is ${describeIdentity(identity)}`;
    if (summary.readOnlyReason !== null) findings.push(readOnlyFinding(summary.readOnlyReason));

    const integrity = (sqlite.pragma('integrity_check') as { integrity_check: string }[]).map(
      (row) => row.integrity_check,
    );
    summary.integrity =
      integrity.length === 1 && integrity[0] === 'ok'
        ? 'ok'
        : integrity.slice(0, INTEGRITY_MESSAGES).join('; ');
    if (summary.integrity !== 'ok') {
      findings.push({
        kind: 'state-db-integrity',
        severity: 'error',
        subject: CODEX_STATE_DB_FILE,
        message: `integrity_check: ${summary.integrity}`,
        fix: null,
      });
    }
    summary.rows = (sqlite.prepare('select count(*) as n from threads').get() as { n: number }).n;
    summary.backfill = tables.includes('backfill_state') ? backfillStatus(sqlite) : null;
    if (summary.backfill !== 'complete') {
      findings.push({
        kind: 'backfill-incomplete',
        severity: 'warning',
        subject: CODEX_STATE_DB_FILE,
        message: `backfill is ${summary.backfill ?? 'not started'} (the DB may lack threads until it completes)`,
        fix: summary.readOnlyReason === null ? 'index every rollout file the DB lacks' : null,
      });
    }
    const columns = (sqlite.prepare('pragma table_info(threads)').all() as { name: string }[]).map(
      (row) => row.name,
    );
    const profile = codexThreadsProfile(columns, tables, summary.readOnlyReason);
    const ctx = createStateContext(
      new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: sqlite }) }),
      {
        dialect: 'sqlite',
        profile,
        ...(options.defaultProvider !== undefined
          ? { defaultProvider: options.defaultProvider }
          : {}),
      },
    );
    const history = inspectHistoryDb(historyPath, summary, findings);
    return { summary, findings, reader: new StateDbReader(sqlite, ctx, identity, history) };
  } catch (error) {
    if (sqlite.open) sqlite.close();
    throw error;
  }
}

function readOnlyFinding(reason: string): StateDbFinding {
  return {
    kind: 'state-db-read-only',
    severity: 'info',
    subject: CODEX_STATE_DB_FILE,
    message: `Skein reads this DB but never writes it: ${reason}; renames and archive state still reach the files`,
    fix: null,
  };
}

function inspectHistoryDb(
  path: string,
  summary: StateDbSummary,
  findings: StateDbFinding[],
): HistoryDb | undefined {
  if (!summary.historyDb.exists) return undefined;
  const sqlite = openReadOnly(path);
  if (typeof sqlite === 'string') {
    summary.historyDb.readOnlyReason = 'it cannot be read';
    findings.push({
      kind: 'history-db-corrupt',
      severity: 'error',
      subject: CODEX_HISTORY_DB_FILE,
      message: `the paginated history DB cannot be read: ${sqlite}`,
      // Its bytes are kept; the rollouts hold what Codex projected into it.
      fix:
        summary.readOnlyReason === null
          ? 'move it to db-backups/ and project the paginated rollouts into a fresh one'
          : null,
    });
    return undefined;
  }
  const identity = identifySchema(readMigrationRows(sqlite), KNOWN_HISTORY_SCHEMAS);
  summary.historyDb.schema = describeIdentity(identity);
  summary.historyDb.readOnlyReason =
    identity.kind === 'known'
      ? summary.readOnlyReason
      : `its schema is ${describeIdentity(identity)}`;
  if (identity.kind !== 'known') {
    findings.push({
      kind: 'history-db-read-only',
      severity: 'info',
      subject: CODEX_HISTORY_DB_FILE,
      message: `Skein reads this DB but never writes it: its schema is ${describeIdentity(identity)}`,
      fix: null,
    });
  }
  if (!tableNames(sqlite).includes('thread_history_projection_state')) {
    sqlite.close();
    return undefined;
  }
  return new HistoryDb(sqlite, 'opened read-only by doctor');
}

function obsoleteSkeinDbs(dir: string): StateDbFinding[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => OBSOLETE_SKEIN_DB.test(name))
    .sort()
    .map((name) => ({
      kind: 'obsolete-skein-db' as const,
      severity: 'info' as const,
      subject: name,
      message:
        'the index of an older Skein version; nothing reads it any more (Skein now works on Codex’s own DB), so it is safe to delete with its -wal/-shm files',
      fix: null,
      path: join(dir, name),
    }));
}

/** A read-only connection that passed `quick_check`, or why there is none. */
function openReadOnly(path: string): Database | string {
  let sqlite: Database | undefined;
  try {
    sqlite = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    sqlite.pragma('busy_timeout = 5000');
    const check = String(sqlite.pragma('quick_check(1)', { simple: true }));
    if (check !== 'ok') {
      sqlite.close();
      return `quick_check: ${check}`;
    }
    return sqlite;
  } catch (error) {
    if (sqlite?.open) sqlite.close();
    if (!isCorruption(error)) throw error;
    return errorMessage(error);
  }
}

function tableNames(sqlite: Database): string[] {
  return (
    sqlite.prepare(`select name from sqlite_master where type = 'table'`).all() as {
      name: string;
    }[]
  ).map((row) => row.name);
}

function backfillStatus(sqlite: Database): BackfillStatus | null {
  const row = sqlite.prepare('select status from backfill_state where id = 1').get() as
    | { status: string }
    | undefined;
  if (row === undefined) return null;
  return row.status === 'complete' || row.status === 'running' ? row.status : 'pending';
}
