import { PostgresThreadStore } from '../postgres-thread-store.js';

/**
 * For tests (`@skein/thread-store-postgres/testing`): a database template holding the store's
 * migrated schema. With test-support's `server.cloneDatabase(MIGRATED_STORE_TEMPLATE)` each
 * test gets a fresh, already migrated database for the cost of a copy.
 */
export const MIGRATED_STORE_TEMPLATE = {
  name: 'skein_migrated_store',
  async prepare(url: string): Promise<void> {
    // Opening migrates (and builds the search indexes); closing ends every connection.
    const store = await PostgresThreadStore.open({ connectionString: url });
    await store.close();
  },
} as const;
