/** What opening a home's DBs moved aside, as the runtime records it. */
export interface RecoveredDbs {
  readonly recoveredBackupDir: string | null;
  readonly recoveredSidecarBackupDir: string | null;
}

/**
 * Where each damaged DB an open moved went, in words for the user (nothing is deleted): what a
 * program opening a home says once, whether the open then succeeded or not.
 */
export function recoveryNotes(db: RecoveredDbs): string[] {
  const notes: string[] = [];
  if (db.recoveredBackupDir !== null) {
    notes.push(
      `the state DB was damaged: moved to ${db.recoveredBackupDir}; the index is rebuilt from the rollout files`,
    );
  }
  if (db.recoveredSidecarBackupDir !== null) {
    notes.push(
      `Skein's sidecar DB was damaged: moved to ${db.recoveredSidecarBackupDir} and started afresh (what only it held, such as read receipts on a Codex 0.131 home, is in that copy)`,
    );
  }
  return notes;
}
