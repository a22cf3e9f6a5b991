/**
 * `pnpm diff:report [--home codex-0.169|codex-0.131|<dir>] [--seed N] [--json]`
 * `[--config FILE] [--steps] [--out FILE] [--save-recording FILE | --from-recording FILE]`: plays a
 * generated sequence on the real `codex app-server` 0.169.0 and on Skein's built server,
 * then prints the agreement and the differences grouped by method and path (one example
 * each). `--json` prints everything (steps, both normalized answers, groups) as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Comparison } from './compare.js';
import { compareRecording, groupDifferences } from './compare.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { type Recording, skeinBuilt } from './runner.js';

interface SavedRecording {
  home: string;
  recording: Recording;
  knownIds: string[];
}

import { runDifferential } from './run.js';

const { values } = parseArgs({
  options: {
    home: { type: 'string', default: 'codex-0.169' },
    seed: { type: 'string', default: '1' },
    /** A config.toml written into both copies of the home. */
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    steps: { type: 'boolean', default: false },
    /** Keep the raw recording (to compare again without re-running the servers). */
    'save-recording': { type: 'string' },
    'from-recording': { type: 'string' },
  },
});

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

async function main(): Promise<void> {
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, not ${values.seed}`);
  let run: { home: string; comparison: Comparison };
  if (values['from-recording'] !== undefined) {
    const saved = JSON.parse(readFileSync(values['from-recording'], 'utf8')) as SavedRecording;
    run = {
      home: saved.home,
      comparison: compareRecording(saved.recording, new Set(saved.knownIds), KNOWN_DIFFERENCES),
    };
  } else {
    if (!skeinBuilt()) throw new Error('build Skein first: pnpm build');
    const fresh = await runDifferential({
      home: values.home,
      ...(values.config === undefined
        ? {}
        : {
            configToml: readFileSync(resolve(process.env.INIT_CWD ?? '.', values.config), 'utf8'),
          }),
      seed,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (values['save-recording'] !== undefined) {
      const saved: SavedRecording = {
        home: fresh.home,
        recording: fresh.recording,
        knownIds: [...fresh.survey.knownIds],
      };
      writeFileSync(values['save-recording'], JSON.stringify(saved));
    }
    run = fresh;
  }
  const { comparison } = run;
  const groups = groupDifferences(comparison);
  const full = {
    home: run.home,
    seed,
    agreement: comparison.agreement,
    agreeing: comparison.agreeing,
    knownOnly: comparison.knownOnly,
    total: comparison.total,
    unexplained: comparison.unexplained.length,
    groups,
    steps: comparison.steps,
  };
  if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(full, null, 1)}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(full, null, 1)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(
    `home ${run.home}, seed ${seed}: ${comparison.agreeing}/${comparison.total} steps agree (${comparison.agreement.toFixed(1)}%); ${comparison.knownOnly} more differ only by known differences`,
  );
  out.push(`${groups.length} groups of differences (method path: steps; example):`);
  for (const group of groups) {
    const e = group.example;
    out.push(`- ${group.method} ${group.path}: ${group.steps} step(s)`);
    out.push(`    e.g. [${e.label}] ${e.path}: codex ${show(e.codex)} | skein ${show(e.skein)}`);
  }
  if (values.steps) {
    out.push('', 'differing steps:');
    for (const step of comparison.steps.filter((s) => !s.equal)) {
      out.push(`## ${step.label} (${step.kind}, ${step.role ?? '-'})`);
      for (const d of step.differences)
        out.push(
          `   ${d.path}: codex ${show(d.codex)} | skein ${show(d.skein)}${d.known ? ' (known)' : ''}`,
        );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
