import type { Database } from 'better-sqlite3';
import type { SidecarStandIns } from '../context.js';
import type { ThreadsProfile } from '../profile.js';
import { handOverSidecarStandIns, isSidecarAttached } from './handover.js';
import { SIDECAR_SCHEMA, startSidecarRecency, stopSidecarRecency } from './recency.js';

/**
 * Attaches Skein's sidecar to the connection on Codex's DB when that DB lacks what Codex 0.169
 * adds at migration (recency, read receipts), so the query layer reads and writes those beside
 * Codex's rows in one statement. Nothing for a DB Skein does not write (unknown schema) or one
 * that has both (0.169). `previous` is what an earlier profile of the same DB needed.
 */
export function attachSidecarStandIns(
  sqlite: Database,
  sidecarPath: string,
  profile: ThreadsProfile,
  previous?: SidecarStandIns,
): SidecarStandIns | undefined {
  const writable = profile.layout === 'codex' && profile.readOnlyReason === null;
  const recency = writable && !profile.columns.has('recency_at_ms');
  const readReceipts = writable && !profile.tables.has('thread_read_receipts');
  if (previous?.recency && !recency) stopSidecarRecency(sqlite);
  // A newer Codex migrated the DB (now or before this open): its table takes Skein's receipts.
  if (!recency && !readReceipts) {
    try {
      handOverSidecarStandIns(sqlite, sidecarPath, profile);
    } catch {
      // Busy, or the sidecar unreadable: the receipts stay where they are, and the next open
      // hands them over; the DB itself is served as usual meanwhile.
    }
    return undefined;
  }
  if (!isSidecarAttached(sqlite))
    sqlite.prepare(`attach database ? as ${SIDECAR_SCHEMA}`).run(sidecarPath);
  if (recency) startSidecarRecency(sqlite);
  return {
    recency,
    readReceipts,
    seenDataVersion: Number(sqlite.pragma('main.data_version', { simple: true })),
  };
}
