export {
  decodeSessionSource,
  encodeSessionSource,
  storedThreadFromMetadata,
} from './codec.js';
export {
  MAX_PAGE_SIZE,
  migratePostgresThreadStore,
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
