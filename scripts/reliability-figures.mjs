// Prints the figures the reliability tests recorded (one JSON object per line: the test, then
// its counts) as one table, so a run ends with what it proved: kills survived, items
// acknowledged and lost, requests sent and left unanswered, attacks refused.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (file === undefined || !existsSync(file)) {
  console.log('reliability figures: none recorded');
  process.exit(0);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))
  .sort((a, b) => String(a.test).localeCompare(String(b.test)));
console.log(`\nreliability figures (${rows.length} tests, profile ${rows[0]?.profile ?? 'ci'}):`);
const width = Math.min(64, Math.max(...rows.map((row) => String(row.test).length)));
for (const row of rows) {
  const figures = Object.entries(row.figures)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  const seconds = typeof row.ms === 'number' ? ` (${(row.ms / 1000).toFixed(1)} s)` : '';
  console.log(`  ${String(row.test).padEnd(width)}  ${figures}${seconds}`);
}
