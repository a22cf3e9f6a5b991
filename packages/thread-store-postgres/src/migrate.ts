import { migrateStateSchema } from '@skein/state';
import { ThreadStoreError } from '@skein/thread-store';
import { type Kysely, Migrator } from 'kysely';
import {
  PG_STORE_MIGRATION_LOCK_TABLE,
  PG_STORE_MIGRATION_TABLE,
  PG_STORE_MIGRATIONS,
  type PgStoreDatabase,
} from './schema.js';

/** Applies the state schema's migrations, then the store's own. Safe to run concurrently. */
export async function migratePostgresThreadStore(db: Kysely<PgStoreDatabase>): Promise<void> {
  // Kysely's migrator takes a PostgreSQL advisory lock, so concurrent openers queue up.
  await migrateStateSchema(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...PG_STORE_MIGRATIONS }) },
    migrationTableName: PG_STORE_MIGRATION_TABLE,
    migrationLockTableName: PG_STORE_MIGRATION_LOCK_TABLE,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    throw ThreadStoreError.internal(
      `postgres thread store migration failed: ${String(result.error)}`,
      result.error,
    );
  }
}
