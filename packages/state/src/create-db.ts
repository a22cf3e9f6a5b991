import type { Database } from 'better-sqlite3';
import type { RecordedCodexDb } from './known-schemas.js';

/**
 * Replays a recorded Codex schema into an empty DB: every schema object's SQL in the order
 * Codex created them, the migration rows with Codex's checksums (so every Codex version that
 * knows them accepts the file, and newer ones migrate it forward), and the rows a fresh Codex
 * DB holds. The caller runs it inside one transaction.
 */
export function replayRecordedSchema(sqlite: Database, recorded: RecordedCodexDb): void {
  for (const object of recorded.schema) sqlite.exec(object.sql);
  const installedOn = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const insert = sqlite.prepare(
    `insert into _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
     values (?, ?, ?, ?, ?, 0)`,
  );
  for (const migration of recorded.migrations) {
    insert.run(
      migration.version,
      migration.description,
      installedOn,
      migration.success ? 1 : 0,
      Buffer.from(migration.checksum, 'hex'),
    );
  }
  for (const [table, rows] of Object.entries(recorded.seedRows)) {
    for (const row of rows) {
      const columns = Object.keys(row);
      sqlite
        .prepare(
          `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        )
        .run(...columns.map((c) => row[c] as unknown));
    }
  }
}
