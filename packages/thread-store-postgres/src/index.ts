export {
  decodeSessionSource,
  encodeSessionSource,
  storedThreadFromMetadata,
} from './codec.js';
export { migratePostgresThreadStore } from './migrate.js';
export {
  MAX_PAGE_SIZE,
  PostgresThreadStore,
  type PostgresThreadStoreOptions,
  type SearchIndexBuild,
} from './postgres-thread-store.js';
export {
  PG_STORE_MIGRATION_TABLE,
  PG_STORE_MIGRATIONS,
  type PgStoreDatabase,
  type ThreadStoreItemsTable,
  type ThreadStoreThreadsTable,
} from './schema.js';
