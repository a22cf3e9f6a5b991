/**
 * The ThreadStore conformance suite: one set of behaviours every store must show, registered
 * as vitest tests. Stores differ in what they can do (paths, archive, listing, git, turns), so
 * the caller declares capabilities; a capability a store lacks must reject with the documented
 * error, never answer with an empty result.
 */
import { afterEach, describe } from 'vitest';
import { describeArchiveDeleteConformance } from './conformance/archive-delete.js';
import {
  recordThread,
  type ThreadStoreConformanceOptions,
  type ThreadStoreHarness,
  threadWithTurns,
} from './conformance/harness.js';
import { describeHistoryConformance } from './conformance/history.js';
import { describeListingConformance } from './conformance/listing.js';
import { describeMetadataConformance } from './conformance/metadata.js';
import { describeSearchConformance } from './conformance/search.js';
import { describeTurnsItemsConformance } from './conformance/turns-items.js';
import { describeWriterConformance } from './conformance/writers.js';

export {
  expectThreadStoreError,
  type ThreadStoreCapabilities,
  type ThreadStoreConformanceOptions,
  type ThreadStoreHarness,
} from './conformance/harness.js';

/**
 * Registers the conformance tests for one store implementation: one suite file per concern
 * under `conformance/`, each test on a fresh harness.
 */
export function describeThreadStoreConformance(options: ThreadStoreConformanceOptions): void {
  describe(`ThreadStore conformance: ${options.name}`, () => {
    let harness: ThreadStoreHarness | undefined;

    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.cleanup?.();
    });

    const suite = {
      caps: options.capabilities,
      async setup(): Promise<ThreadStoreHarness> {
        harness = await options.createHarness();
        return harness;
      },
      recordThread,
      threadWithTurns,
    };
    describeHistoryConformance(suite);
    describeWriterConformance(suite);
    describeMetadataConformance(suite);
    describeListingConformance(suite);
    describeSearchConformance(suite);
    describeArchiveDeleteConformance(suite);
    describeTurnsItemsConformance(suite);
  });
}
