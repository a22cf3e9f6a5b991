import { pluckedStatement } from './db-file.js';
import type { StateDb } from './runtime.js';

/**
 * Whether any row of a state DB may have changed between two moments, as one comparable value:
 * SQLite's `data_version` of the DB file, which moves when another connection commits (Codex,
 * another Skein process, the backfill's worker thread), and this connection's
 * `total_changes()`, which counts the rows it wrote itself (the sidecar's included). Equal
 * stamps mean no row changed in between, so what a reader derived from the rows then still
 * holds. One statement, no write.
 */
export function dbChangeStamp(db: StateDb): string {
  return String(
    pluckedStatement(
      db.sqlite,
      `select (select data_version from pragma_data_version) || ':' || total_changes()`,
    ).get(),
  );
}

/**
 * SQLite's `data_version` of a state DB's file: it moves only when another connection commits,
 * so equal values around this connection's own writes mean nobody else wrote in between.
 */
export function dataVersion(db: StateDb): number {
  return Number(pluckedStatement(db.sqlite, 'pragma data_version').get());
}
