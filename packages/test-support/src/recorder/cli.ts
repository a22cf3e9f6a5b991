/**
 * `pnpm record-homes [--codex <version>] [--mixed <older>,<newer>] [--out DIR] [--json]`
 *
 * Records homes with the real Codex binaries (installed on first use, see codex-cli.ts) into
 * `DIR/<scenario name>/home-a/` (default: packages/test-support/fixtures/recorded). Without
 * `--codex`/`--mixed` it records every default home: 0.169.0, 0.131.0 and 0.131.0 → 0.169.0.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../paths.js';
import { type RecordResult, recordHome } from './record.js';
import { defaultScenarios, mixedScenario, singleVersionScenario } from './scenario.js';
import type { Scenario } from './scenario-types.js';

const USAGE = `usage: pnpm record-homes [--codex <version>]... [--mixed <older>,<newer>]... [--out DIR] [--json] [--keep-temp]`;

export function defaultOutDir(): string {
  return join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      codex: { type: 'string', multiple: true },
      mixed: { type: 'string', multiple: true },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'keep-temp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scenarios: Scenario[] = [];
  for (const version of values.codex ?? []) scenarios.push(singleVersionScenario(version));
  for (const pair of values.mixed ?? []) {
    const [older, newer] = pair.split(',');
    if (!older || !newer) throw new Error(`--mixed wants <older>,<newer>, got ${pair}`);
    scenarios.push(mixedScenario(older, newer));
  }
  if (scenarios.length === 0) scenarios.push(...defaultScenarios());
  const outRoot = values.out ?? defaultOutDir();
  // Progress goes to stderr so --json output stays parseable.
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results: RecordResult[] = [];
  for (const scenario of scenarios) {
    const outDir = join(outRoot, scenario.name, 'home-a');
    log(`== ${scenario.name}: ${scenario.description}`);
    const result = await recordHome({
      scenario,
      outDir,
      log: (line) => log(`  ${line}`),
      keepTemp: values['keep-temp'],
    });
    results.push(result);
    log(
      `== ${scenario.name}: ${result.threads} threads (${result.persistedThreads} persisted), ` +
        `${result.files} files, ${(result.bytes / 1024).toFixed(0)} KiB, ` +
        `${(result.durationMs / 1000).toFixed(1)} s, ${result.checkProblems.length} check problems, ` +
        `${result.skippedSteps.length} skipped steps → ${outDir}`,
    );
    for (const problem of result.checkProblems) log(`   problem: ${problem}`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `record-homes: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
