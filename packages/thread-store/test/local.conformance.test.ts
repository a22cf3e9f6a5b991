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

describeThreadStoreConformance({
  name: 'LocalThreadStore with a state DB',
  createHarness: () => localHarness(true),
  capabilities: { ...shared, gitMetadata: true },
});

describeThreadStoreConformance({
  name: 'LocalThreadStore without a state DB',
  createHarness: () => localHarness(false),
  capabilities: { ...shared, gitMetadata: false },
});
