import {
  type HistoryDb,
  inspectStateDb,
  type StateContext,
  type StateDb,
  type StateDbSummary,
  StateRuntime,
} from '@skein/state';
import { initStateDb, sqliteHomeOf } from '../state-db/init.js';
import { diagnoseLineage } from './lineage.js';
import { diagnoseNames, readIndexNames, repairNames } from './names.js';
import { diagnoseProjections, repairProjections } from './projection.js';
import { diagnoseRolloutFiles } from './rollout-files.js';
import { diagnoseRows, readAllRows, repairRows } from './rows.js';
import type {
  DoctorOptions,
  HomeDiagnosis,
  HomeFinding,
  HomeRepair,
  HomeScan,
  RepairedFinding,
} from './types.js';

/**
 * `skein doctor` for a Codex home, with Skein as one more process on Codex's own files: what
 * drifted between the rollouts (the truth), `session_index.jsonl` and Codex's SQLite files, and
 * the repairs Codex itself would make. `diagnoseHome` changes nothing (the DBs are opened
 * read-only); `repairHome` applies every fix a finding names, family by family — the state DB
 * (created, rebuilt or backfilled by the normal open path), rows, names, the paginated
 * projection — each family re-judged on the state the previous one left, then diagnoses again
 * to say which findings are gone. A rollout is never written.
 */

interface Diagnosed {
  diagnosis: HomeDiagnosis;
  scan: HomeScan;
}

/**
 * Checks a Codex home for drift between its rollouts (the truth), `session_index.jsonl` and
 * Codex's DBs: unreadable or torn files, stale or missing rows, names in one place only, a
 * projection behind or ahead, forks whose source is gone. Reads only.
 */
export async function diagnoseHome(options: DoctorOptions): Promise<HomeDiagnosis> {
  return (await diagnose(options)).diagnosis;
}

async function diagnose(options: DoctorOptions): Promise<Diagnosed> {
  const files = await diagnoseRolloutFiles(options.codexHome);
  const scan = files.scan;
  const inspection = await inspectStateDb(sqliteHomeOf(options), {
    ...(options.defaultProvider !== undefined ? { defaultProvider: options.defaultProvider } : {}),
  });
  const findings: HomeFinding[] = [...inspection.findings, ...files.findings];
  const reader = inspection.reader;
  try {
    if (reader === null) {
      // No DB to judge rows against: only the name index's own findings.
      findings.push(...diagnoseNames(scan, null, await readIndexNames(scan.home), nameOptions()));
    } else {
      findings.push(
        ...(await diagnoseDbFamilies(scan, reader.ctx, reader.history, inspection.summary)),
      );
    }
  } finally {
    await reader?.close();
  }
  findings.push(...diagnoseLineage(scan));
  return {
    diagnosis: { home: scan.home, files: files.summary, stateDb: inspection.summary, findings },
    scan,
  };
}

function nameOptions(ctx?: StateContext) {
  const columns = ctx?.profile.columns;
  return {
    hasNameColumn: (columns?.has('name') && columns.has('history_mode')) === true,
    readOnlyReason: ctx === undefined ? 'there is no state DB' : ctx.profile.readOnlyReason,
  };
}

async function diagnoseDbFamilies(
  scan: HomeScan,
  ctx: StateContext,
  history: HistoryDb | undefined,
  summary: StateDbSummary,
): Promise<HomeFinding[]> {
  const rows = await readAllRows(ctx);
  const readOnlyReason = ctx.profile.readOnlyReason;
  const findings: HomeFinding[] = await diagnoseRows(scan, rows, {
    backfillComplete: summary.backfill === 'complete',
    readOnlyReason,
  });
  findings.push(...diagnoseNames(scan, rows, await readIndexNames(scan.home), nameOptions(ctx)));
  // Only a 0.169 DB knows paginated history; a home whose DB predates it has no projection.
  if (ctx.profile.columns.has('history_mode')) {
    const rowIds = new Set<string>(rows.map((row) => row.id));
    // A damaged history DB is replaced by the repair, which can then project into the new one.
    const unreadable = summary.historyDb.exists && summary.historyDb.schema === null;
    findings.push(
      ...(await diagnoseProjections(scan, history, rowIds, {
        writableReason: readOnlyReason ?? (unreadable ? null : summary.historyDb.readOnlyReason),
        ...(unreadable ? { absentBecause: 'the DB cannot be read' } : {}),
      })),
    );
  }
  return findings;
}

/** Kinds whose fix is the normal open path: create, rebuild or finish the backfill. */
const OPEN_PATH_KINDS: ReadonlySet<string> = new Set([
  'state-db-missing',
  'state-db-corrupt',
  'backfill-incomplete',
]);

/**
 * Repairs what `diagnoseHome` finds, as Codex would (re-point or drop rows, index files, write a
 * name's other side, project history), never rewriting a rollout; then diagnoses again and reports
 * what remains.
 */
export async function repairHome(options: DoctorOptions): Promise<HomeRepair> {
  const { diagnosis: before, scan } = await diagnose(options);
  const errors = new Map<string, string>();
  const record = (found: Map<HomeFinding, string>) => {
    for (const [finding, message] of found) errors.set(keyOf(finding), message);
  };
  if (before.findings.some((finding) => finding.fix !== null)) {
    const db = await openForRepair(options, before, errors);
    try {
      await repairFamilies(scan, db, record);
    } finally {
      await db?.close();
    }
  }
  const { diagnosis: after } = await diagnose(options);
  const remaining = new Set(after.findings.map(keyOf));
  const findings: RepairedFinding[] = before.findings.map((finding) => {
    const key = keyOf(finding);
    const error = errors.get(key);
    return {
      ...finding,
      repaired: finding.fix !== null && !remaining.has(key),
      ...(error !== undefined ? { repairError: error } : {}),
    };
  });
  return { findings, after };
}

/**
 * The writable handle repairs go through: `initStateDb` when the DB is missing, corrupt (moved
 * aside and recreated, as Codex does) or not fully backfilled; a plain open otherwise.
 */
async function openForRepair(
  options: DoctorOptions,
  before: HomeDiagnosis,
  errors: Map<string, string>,
): Promise<StateDb | undefined> {
  const sqliteHome = sqliteHomeOf(options);
  const provider =
    options.defaultProvider !== undefined ? { defaultProvider: options.defaultProvider } : {};
  const viaOpenPath = before.findings.filter((f) => f.fix !== null && OPEN_PATH_KINDS.has(f.kind));
  try {
    if (viaOpenPath.length > 0) {
      return await initStateDb({ codexHome: options.codexHome, sqliteHome, ...provider });
    }
    if (!before.stateDb.exists) return undefined;
    return await StateRuntime.open({ sqliteHome, ...provider });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    for (const finding of viaOpenPath) errors.set(keyOf(finding), message);
    return undefined;
  }
}

async function repairFamilies(
  scan: HomeScan,
  db: StateDb | undefined,
  record: (errors: Map<HomeFinding, string>) => void,
): Promise<void> {
  const writable = db !== undefined && db.readOnlyReason === null;
  if (writable) {
    const rows = await readAllRows(db.ctx);
    const found = await diagnoseRows(scan, rows, { backfillComplete: true, readOnlyReason: null });
    record(await repairRows(scan, db, found));
  }
  // Names: the index side needs no DB, the DB side a writable one.
  const rows = db !== undefined ? await readAllRows(db.ctx) : null;
  const names = diagnoseNames(scan, rows, await readIndexNames(scan.home), nameOptions(db?.ctx));
  record(await repairNames(scan, writable ? db : undefined, names));
  if (writable && db.ctx.profile.columns.has('history_mode')) {
    const rowIds = new Set<string>((await readAllRows(db.ctx)).map((row) => row.id));
    // A damaged history DB goes to db-backups/; its projections are rebuilt below.
    db.moveDamagedHistoryDbAside();
    let history = db.historyDb();
    // The history DB is created only for a paginated rollout that needs projecting.
    if (history === undefined) {
      const needed = await diagnoseProjections(scan, undefined, rowIds, { writableReason: null });
      if (needed.length > 0) history = db.historyDb({ create: true });
    }
    if (history !== undefined) {
      const found = await diagnoseProjections(scan, history, rowIds, {
        writableReason: history.readOnlyReason,
      });
      record(await repairProjections(scan, history, found));
    }
  }
}

function keyOf(finding: HomeFinding): string {
  return `${finding.kind}\u0000${finding.subject}`;
}
