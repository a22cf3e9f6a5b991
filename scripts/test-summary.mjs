// Sums the tiers' vitest JSON reports into one closing line: "N passed, M failed, K skipped".
// A tier without a report, or whose run failed outside any test (a global setup, an unhandled
// error), counts as one failure more, so the line never reads clean when the run was not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const results = new URL('../.test-results/', import.meta.url).pathname;
const tiers =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['fast', 'interop', 'reliability'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const tier of tiers) {
  const report = join(results, `${tier}.json`);
  const statusFile = join(results, `${tier}.status`);
  const status = existsSync(statusFile) ? Number(readFileSync(statusFile, 'utf8').trim()) : null;
  if (!existsSync(report)) {
    console.log(`${tier} tier: no test report (it did not run to the end, see above)`);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const tierFailed =
    (json.numFailedTests ?? 0) +
    // A file that fails to load has no failed tests but still failed.
    (json.numFailedTests === 0 ? (json.numFailedTestSuites ?? 0) : 0);
  passed += json.numPassedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  failed += tierFailed;
  if (status !== 0 && tierFailed === 0) {
    console.log(
      `${tier} tier: vitest exited ${status ?? 'without a status'} (an error outside the tests, see above)`,
    );
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
