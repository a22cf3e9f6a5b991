import { InMemoryThreadStore } from '../src/index.js';
import { describeThreadStoreConformance } from '../src/testing/index.js';

describeThreadStoreConformance({
  name: 'InMemoryThreadStore',
  createHarness: () => ({ store: new InMemoryThreadStore(), cwd: '/tmp/skein-in-memory' }),
  capabilities: {
    rolloutPaths: false,
    liveWriters: false,
    requiresCwd: false,
    archive: false,
    listing: false,
    gitMetadata: true,
    turns: false,
    search: false,
  },
});
