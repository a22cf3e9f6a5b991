import type { Database } from 'better-sqlite3';
import { type Kysely, type Migration, Migrator } from 'kysely';
import { errorMessage, StateError } from '../errors.js';
import { SIDECAR_MIGRATIONS, type SidecarDatabase } from '../sidecar.js';

/** The names of the sidecar migrations applied so far (none for a new sidecar). */
function appliedMigrations(sqlite: Database): Set<string> {
  const hasTable = sqlite
    .prepare(`select 1 from sqlite_master where type = 'table' and name = 'skein_migration'`)
    .get();
  if (!hasTable) return new Set();
  const rows = sqlite.prepare('select name from skein_migration').pluck().all() as string[];
  return new Set(rows);
}

/**
 * The sidecar's own migrations, serialized across processes by one immediate transaction.
 * A sidecar that has every migration this build knows needs none of that: every open (each CLI
 * command) would otherwise take the sidecar's write lock and run Kysely's migrator, whose first
 * name comparison loads ICU's collation tables (together a few milliseconds of a warm
 * `skein list`, and a wait whenever another process writes the sidecar). Migrations only ever
 * add, so what is applied stays applied.
 */
export async function migrateSidecar(sqlite: Database, db: Kysely<SidecarDatabase>): Promise<void> {
  const applied = appliedMigrations(sqlite);
  if (Object.keys(SIDECAR_MIGRATIONS).every((name) => applied.has(name))) return;
  for (let attempt = 0; ; attempt += 1) {
    try {
      sqlite.exec('BEGIN IMMEDIATE');
      break;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY' && attempt < 20) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw error;
    }
  }
  try {
    // A newer Skein's migrations this build does not know are kept as no-ops, so an older
    // Skein still opens the file (Kysely would otherwise refuse it as corrupted).
    const known: Record<string, Migration> = { ...SIDECAR_MIGRATIONS };
    for (const name of appliedMigrations(sqlite)) known[name] ??= { up: async () => {} };
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => known },
      migrationTableName: 'skein_migration',
      migrationLockTableName: 'skein_migration_lock',
      allowUnorderedMigrations: true,
    });
    const result = await migrator.migrateToLatest();
    if (result.error) throw result.error;
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw new StateError(
      'MigrationFailed',
      `Skein sidecar migration failed: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
}
