import { COMPRESSED_SUFFIX } from '../layout.js';
import { ownFileOf } from './rows.js';
import type { HomeFinding, HomeScan, LineageFindingKind } from './types.js';

/**
 * Doctor's check family for forks by reference (Codex 0.169's paginated forks): a fork's
 * `session_meta.history_base` names the source thread and the byte offset where the inherited
 * history ends, and Codex reads the fork's early turns through the source's rollout. A source
 * that is gone, or shorter than that offset, breaks every read of the fork (`invalid paginated
 * history lineage`). Nothing can be repaired but the source itself, so these are reported only.
 * (A source whose row points at a moved file is the row checks' `row-file-moved`.)
 */

export type LineageFinding = HomeFinding & { kind: LineageFindingKind };

export function diagnoseLineage(scan: HomeScan): LineageFinding[] {
  const findings: LineageFinding[] = [];
  for (const id of scan.byThread.keys()) {
    const fork = ownFileOf(scan, id);
    const base = fork?.historyBase;
    if (fork === undefined || fork.historyMode !== 'paginated' || !base) continue;
    const sourceId = base.thread_id.toLowerCase();
    const source = ownFileOf(scan, sourceId);
    if (source === undefined) {
      findings.push({
        kind: 'fork-source-missing',
        severity: 'error',
        subject: id,
        threadId: id,
        path: fork.path,
        message: `fork of ${sourceId}, whose rollout is not in this home: Codex cannot read the fork's history (missing source rollout)`,
        fix: null,
      });
      continue;
    }
    const needed = base.end_byte_offset;
    // A compressed source's size on disk says nothing about its byte offsets.
    if (needed === undefined || source.file.endsWith(COMPRESSED_SUFFIX)) continue;
    if (source.size < needed) {
      findings.push({
        kind: 'fork-source-short',
        severity: 'error',
        subject: id,
        threadId: id,
        path: fork.path,
        message: `fork of ${sourceId} up to byte ${needed}, but ${scan.rel(source.path)} has only ${source.size} bytes: Codex cannot read the fork's history`,
        fix: null,
      });
    }
  }
  return findings;
}
