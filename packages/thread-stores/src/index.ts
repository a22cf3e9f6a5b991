export {
  type OpenedThreadStore,
  type OpenThreadStoreOptions,
  openThreadStore,
  type PostgresStoreOptions,
} from './open.js';
export { type OpenedHomeStore, type OpenHomeStoreOptions, openHomeStore } from './open-home.js';
export { type ThreadStoreKind, threadStoreKindOf } from './spec.js';
