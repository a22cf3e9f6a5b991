import { describeThreadStoreConformance } from '../src/testing/index.js';
import { localHarness } from './local-harness.js';

const shared = {
  rolloutPaths: true,
  liveWriters: true,
  requiresCwd: true,
  archive: true,
  listing: true,
  turns: true,
  search: true,
  items: true,
};

for (const schema of ['0.131.0', '0.169.0'] as const) {
  describeThreadStoreConformance({
    name: `LocalThreadStore with a Codex ${schema} state DB`,
    createHarness: () => localHarness(true, schema),
    capabilities: { ...shared, gitMetadata: true, paginatedHistory: schema === '0.169.0' },
  });
}

describeThreadStoreConformance({
  name: 'LocalThreadStore without a state DB',
  createHarness: () => localHarness(false),
  capabilities: { ...shared, gitMetadata: false },
});
