import { patchThreadMetadata, type StateDb, type ThreadMetadata } from '@skein/state';
import { appendSessionIndexEntry, readSessionIndexNames } from '../session-index.js';
import { isInsideHome } from './rollout-files.js';
import { isUnmaterialized, ownFileOf } from './rows.js';
import type { HomeFinding, HomeScan, NameFindingKind } from './types.js';

/**
 * Doctor's check family for thread names, which Codex keeps in two places (spec
 * codex-db-effects §2.2): every rename appends `session_index.jsonl`, and writes the DB —
 * `threads.name` for a 0.169 paginated thread, `title` for a legacy one. A name in one place
 * only is repaired by writing the other side as a rename does. For a legacy thread a name in
 * the index alone is how Codex itself leaves it (0.131's git update and a later resume
 * re-derive `title` from the first message; readers then take the index's name), so it is not
 * drift. When both sides hold different names the index's latest line wins: it is the file
 * every reader without SQLite (and Codex 0.131) answers from.
 */

export type NameFinding = HomeFinding & { kind: NameFindingKind };

/** The current name of each thread in `session_index.jsonl` (latest line; blank = none). */
export async function readIndexNames(codexHome: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const [id, name] of await readSessionIndexNames(codexHome)) {
    if (name.trim() !== '') names.set(id, name);
  }
  return names;
}

/** The name a row holds where Codex keeps it for the thread's history mode, or null. */
export function rowName(row: ThreadMetadata, hasNameColumn: boolean): string | null {
  if (hasNameColumn && row.historyMode === 'paginated') return row.name;
  if (row.name !== null && row.name.trim() !== '') return row.name;
  // A legacy rename lives in `title`; a title equal to the first message is derived, not a name.
  return row.title.trim() !== '' && row.title !== row.firstUserMessage ? row.title : null;
}

export function diagnoseNames(
  scan: HomeScan,
  rows: readonly ThreadMetadata[] | null,
  names: ReadonlyMap<string, string>,
  options: { hasNameColumn: boolean; readOnlyReason: string | null },
): NameFinding[] {
  const findings: NameFinding[] = [];
  const dbFix = (fix: string) => (options.readOnlyReason === null ? fix : null);
  const rowIds = new Set<string>();
  for (const row of rows ?? []) {
    rowIds.add(row.id);
    // Rows the row checks drop or re-point are judged after that.
    if (!isInsideHome(scan.home, row.rolloutPath)) continue;
    if (ownFileOf(scan, row.id) === undefined && !isUnmaterialized(row)) continue;
    const inIndex = names.get(row.id) ?? null;
    const inDb = rowName(row, options.hasNameColumn);
    const paginated = options.hasNameColumn && row.historyMode === 'paginated';
    const column = paginated ? 'threads.name' : 'threads.title';
    const base = { severity: 'error' as const, subject: row.id, threadId: row.id };
    if (inDb !== null && inIndex === null) {
      findings.push({
        ...base,
        kind: 'name-missing-in-index',
        name: inDb,
        message: `${column} names it "${inDb}" but session_index.jsonl has no name for it`,
        fix: 'append the name to session_index.jsonl (as a rename does)',
      });
    } else if (inIndex !== null && inDb === null && paginated) {
      findings.push({
        ...base,
        kind: 'name-missing-in-db',
        name: inIndex,
        message: `session_index.jsonl names it "${inIndex}" but threads.name is empty (Codex 0.169 shows no name)`,
        fix: dbFix('write the name into threads.name (as a rename does)'),
      });
    } else if (inIndex !== null && inDb !== null && inIndex !== inDb) {
      findings.push({
        ...base,
        kind: 'name-mismatch',
        name: inIndex,
        message: `session_index.jsonl names it "${inIndex}" but ${column} says "${inDb}"`,
        fix: dbFix(`write "${inIndex}" into ${column} (the index's latest line wins)`),
      });
    }
  }
  for (const [id, name] of names) {
    if (scan.byThread.has(id) || rowIds.has(id)) continue;
    findings.push({
      kind: 'name-unknown-thread',
      severity: 'warning',
      subject: id,
      threadId: id,
      message: `session_index.jsonl names "${name}" but no rollout file or row has this id (Codex ignores it; kept, it is not doctor's to drop)`,
      fix: null,
    });
  }
  return findings;
}

/** Writes the missing side of each name finding. Returns errors by finding. */
export async function repairNames(
  scan: HomeScan,
  db: StateDb | undefined,
  findings: readonly NameFinding[],
): Promise<Map<NameFinding, string>> {
  const errors = new Map<NameFinding, string>();
  for (const finding of findings) {
    const { threadId, name } = finding;
    if (finding.fix === null || threadId === undefined || name === undefined) continue;
    try {
      if (finding.kind === 'name-missing-in-index') {
        await appendSessionIndexEntry(scan.home, threadId, name);
      } else if (db !== undefined) {
        const updated = await patchThreadMetadata(db.ctx, threadId, { name });
        if (!updated) throw new Error(`thread ${threadId} has no row`);
      }
    } catch (error) {
      errors.set(finding, error instanceof Error ? error.message : String(error));
    }
  }
  return errors;
}
