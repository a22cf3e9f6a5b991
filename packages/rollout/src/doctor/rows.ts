import { join } from 'node:path';
import {
  deleteThread,
  rowToMetadata,
  type StateContext,
  type StateDb,
  selectThreadRows,
  type ThreadMetadata,
  type ThreadRow,
} from '@skein/state';
import {
  ARCHIVED_SESSIONS_SUBDIR,
  plainRolloutPath,
  resolveRolloutFile,
  SESSIONS_SUBDIR,
} from '../layout.js';
import { readRepairRolloutPath, reconcileRolloutFile } from '../state-db/repair.js';
import { inHomeSpelling, isInsideHome } from './rollout-files.js';
import type { HomeFinding, HomeScan, RowFindingKind, ScannedFile } from './types.js';

/**
 * Doctor's check family for the rows of `threads` against the rollout files (the files are the
 * truth). A row that points at a moved file, at a file outside the home (a copied or moved
 * home), or at a file holding another thread is re-pointed at its thread's file in this home,
 * as Codex's read-repair does (path and archived flag, nothing else); a row whose transcript is
 * gone is dropped as Codex's delete drops one (its projection with it); a file no row indexes
 * is indexed as the backfill would; an archived flag follows the file's folder.
 */

export type RowFinding = HomeFinding & { kind: RowFindingKind };

/** Every row of `threads`, archived or not, hidden or not. */
export async function readAllRows(ctx: StateContext): Promise<ThreadMetadata[]> {
  const rows = (await selectThreadRows(ctx).execute()) as ThreadRow[];
  return rows.map((row) => rowToMetadata(row, ctx.profile));
}

/**
 * A thread Codex 0.169 created a row for before any message (a name or git info set on a new
 * thread): no rollout exists yet, and none is expected until the first message.
 */
export function isUnmaterialized(row: ThreadMetadata): boolean {
  return row.preview === '' && row.firstUserMessage === '';
}

/** The thread's own file in the home: one whose `session_meta` names it, active first. */
export function ownFileOf(scan: HomeScan, threadId: string): ScannedFile | undefined {
  const files = scan.byThread.get(threadId) ?? [];
  const own = files.filter((file) => file.ownId === threadId);
  return own.find((file) => !file.archived) ?? own[0];
}

export async function diagnoseRows(
  scan: HomeScan,
  rows: readonly ThreadMetadata[],
  options: { backfillComplete: boolean; readOnlyReason: string | null },
): Promise<RowFinding[]> {
  const findings: RowFinding[] = [];
  const { rel } = scan;
  const fixable = (fix: string) => (options.readOnlyReason === null ? fix : null);
  const byPath = new Map(scan.files.map((file) => [file.path, file]));
  const drop = 'remove the row (its transcript is gone; the rollout is the truth)';
  const forkSources = new Set(
    scan.files.flatMap((file) =>
      file.historyMode === 'paginated' && file.historyBase
        ? [file.historyBase.thread_id.toLowerCase()]
        : [],
    ),
  );
  for (const row of rows) {
    const own = ownFileOf(scan, row.id);
    const base = { severity: 'error' as const, subject: row.id, threadId: row.id };
    if (!isInsideHome(scan.home, row.rolloutPath)) {
      // Never looked at: nothing outside the home is read or written.
      const target = sameFileInHome(scan, row, byPath) ?? own?.path ?? null;
      findings.push({
        ...base,
        kind: 'row-outside-home',
        message: `row points outside this home, at ${row.rolloutPath} (a copied or moved home)`,
        fix: fixable(target ? `re-point the row at ${rel(target)}` : drop),
        ...(target ? { target } : {}),
      });
      continue;
    }
    const atRowPath = byPath.get(plainRolloutPath(inHomeSpelling(scan.home, row.rolloutPath)));
    if (atRowPath) {
      if (atRowPath.ownId !== null && atRowPath.ownId !== row.id) {
        findings.push({
          ...base,
          kind: 'row-file-other-thread',
          path: atRowPath.path,
          message: `row points at ${rel(atRowPath.path)}, which holds thread ${atRowPath.ownId}`,
          fix: fixable(own ? `re-point the row at ${rel(own.path)}` : drop),
          ...(own ? { target: own.path } : {}),
        });
      } else if (atRowPath.archived !== row.archived) {
        findings.push({
          ...base,
          kind: 'row-archived-mismatch',
          path: atRowPath.path,
          target: atRowPath.path,
          message: `row says ${row.archived ? 'archived' : 'active'} but the file is in ${atRowPath.archived ? `${ARCHIVED_SESSIONS_SUBDIR}/` : `${SESSIONS_SUBDIR}/`}`,
          fix: fixable('take the archived state from where the file is'),
        });
      }
      continue;
    }
    // Not a file the walk found: somewhere else in the home, or gone.
    if ((await resolveRolloutFile(row.rolloutPath)) !== null) continue;
    if (own) {
      findings.push({
        ...base,
        kind: 'row-file-moved',
        message: `row points at ${rel(row.rolloutPath)}, which does not exist; the thread's file is ${rel(own.path)}`,
        fix: fixable(`re-point the row at ${rel(own.path)}`),
        target: own.path,
      });
    } else if (!isUnmaterialized(row)) {
      const referenced = forkSources.has(row.id);
      findings.push({
        ...base,
        kind: 'row-file-missing',
        message: `row points at ${rel(row.rolloutPath)}, which does not exist, and no file of this thread is in the home${referenced ? '; forks by reference read through it, so the row stays (as Codex refuses to delete such a thread) until the rollout is restored' : ''}`,
        fix: referenced ? null : fixable(drop),
      });
    }
  }
  findings.push(...unindexedFiles(scan, rows, options, fixable));
  return findings;
}

/** The row's file at the same home-relative place in this home (a copied home's own copy). */
function sameFileInHome(
  scan: HomeScan,
  row: ThreadMetadata,
  byPath: Map<string, ScannedFile>,
): string | null {
  const parts = plainRolloutPath(row.rolloutPath).split(/[\\/]/);
  for (let i = parts.length - 2; i >= 0; i -= 1) {
    if (parts[i] !== SESSIONS_SUBDIR && parts[i] !== ARCHIVED_SESSIONS_SUBDIR) continue;
    const candidate = join(scan.home, ...parts.slice(i));
    const file = byPath.get(candidate);
    if (file?.ownId === row.id) return candidate;
    // A thread with no rollout yet keeps pointing where its rollout will be, in this home.
    if (file === undefined && isUnmaterialized(row) && !scan.byThread.has(row.id)) return candidate;
    return null;
  }
  return null;
}

function unindexedFiles(
  scan: HomeScan,
  rows: readonly ThreadMetadata[],
  options: { backfillComplete: boolean },
  fixable: (fix: string) => string | null,
): RowFinding[] {
  const rowIds = new Set(rows.map((row) => row.id as string));
  const unindexed: ScannedFile[] = [];
  for (const id of scan.byThread.keys()) {
    if (rowIds.has(id)) continue;
    const file = ownFileOf(scan, id);
    if (file) unindexed.push(file); // without a session_meta there is nothing to index
  }
  if (unindexed.length === 0) return [];
  if (!options.backfillComplete) {
    // A fresh or half-built DB: missing rows are expected, not drift; the backfill fills them.
    return [
      {
        kind: 'file-not-indexed',
        severity: 'warning',
        subject: `${unindexed.length} files`,
        message: `${unindexed.length} rollout file${unindexed.length === 1 ? '' : 's'} not indexed yet (the backfill has not finished)`,
        fix: fixable('finish the backfill'),
      },
    ];
  }
  return unindexed.map((file) => ({
    kind: 'file-not-indexed' as const,
    severity: 'error' as const,
    subject: scan.rel(file.path),
    threadId: file.ownId as string,
    path: file.path,
    message: `thread ${file.ownId} has no row (Codex's lists miss it)`,
    fix: fixable('index the file as the backfill does'),
  }));
}

/** Applies the fixes of `findings` (from `diagnoseRows` on `db`). Returns errors by finding. */
export async function repairRows(
  scan: HomeScan,
  db: StateDb,
  findings: readonly RowFinding[],
): Promise<Map<RowFinding, string>> {
  const errors = new Map<RowFinding, string>();
  for (const finding of findings) {
    if (finding.fix === null || finding.threadId === undefined) continue;
    try {
      await repairRow(scan, db, finding, finding.threadId);
    } catch (error) {
      errors.set(finding, error instanceof Error ? error.message : String(error));
    }
  }
  return errors;
}

async function repairRow(
  scan: HomeScan,
  db: StateDb,
  finding: RowFinding,
  threadId: string,
): Promise<void> {
  switch (finding.kind) {
    case 'row-outside-home':
    case 'row-file-moved':
    case 'row-file-other-thread':
    case 'row-archived-mismatch': {
      if (finding.target === undefined) {
        await dropRow(db, threadId);
        return;
      }
      const result = await readRepairRolloutPath(db, finding.target, {
        codexHome: scan.home,
        threadId,
      });
      if (result === 'failed') throw new Error(`could not re-point ${threadId}`);
      return;
    }
    case 'row-file-missing':
      await dropRow(db, threadId);
      return;
    case 'file-not-indexed': {
      if (finding.path === undefined) return;
      const file = scan.files.find((f) => f.path === finding.path);
      await reconcileRolloutFile(db, finding.path, {
        codexHome: scan.home,
        ...(file ? { archived: file.archived } : {}),
      });
      return;
    }
  }
}

/** Drops a row whose transcript is gone, with what Codex's delete drops beside it. */
async function dropRow(db: StateDb, threadId: string): Promise<void> {
  await deleteThread(db.ctx, threadId);
  const history = db.historyDb();
  if (history !== undefined && history.readOnlyReason === null) history.deleteThread(threadId);
}
