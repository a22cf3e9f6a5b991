import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * Kysely's SQLite driver prepares every query it runs, and preparing costs more than running a
 * page query (about 80 µs against a few µs for a point lookup): a list page of 50 repaired rows
 * prepared ~60 statements. This is the connection Kysely is given instead: prepared statements
 * are kept per SQL text (at most `MAX_STATEMENTS`, oldest dropped first) and reused. A statement
 * still iterating (a streamed query) is never handed out twice; a fresh one is prepared. When
 * the schema changes (Codex migrated the DB meanwhile), the kept statements are dropped.
 */
const MAX_STATEMENTS = 256;

export function withStatementCache(sqlite: Database): SqliteDatabase {
  const statements = new Map<string, Statement>();
  const schemaVersionOf = sqlite.prepare('pragma schema_version').pluck();
  let schemaVersion = -1;
  return {
    prepare(sql: string) {
      const version = Number(schemaVersionOf.get());
      if (version !== schemaVersion) {
        statements.clear();
        schemaVersion = version;
      }
      const kept = statements.get(sql);
      if (kept !== undefined && !kept.busy) return kept;
      const statement = sqlite.prepare(sql);
      if (kept === undefined) {
        if (statements.size >= MAX_STATEMENTS) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  } as SqliteDatabase;
}
