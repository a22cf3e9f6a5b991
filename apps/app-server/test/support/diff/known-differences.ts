/**
 * Differences between Skein and codex 0.169.0 on generated sequences that Skein cannot
 * remove, each for ONE step (its label, or its kind together with one thread role) and ONE
 * exact JSON path, with the reason. Nothing here may excuse a path on every step, and
 * `readStates` / `readState` are compared like any other field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownDifference } from './compare.js';

const CLI_VERSION_REASON =
  "a thread Skein starts or forks records Skein's own version (0.1.0) as its cli_version, never a Codex version it is not; 0.169.0 records 0.169.0 (a decision: see DIFFERENCES.md §1)";

/**
 * Where the generated sequence of seed 1 on the codex-0.169 fixture home shows such a thread
 * (one step label and one exact path each; the values are checked too). Regenerate with
 * `pnpm diff:report --home codex-0.169 --seed 1 --json` when the generator changes.
 */
const CLI_VERSION_STEPS = JSON.parse(
  readFileSync(join(import.meta.dirname, 'known-cli-version.codex-0.169.seed1.json'), 'utf8'),
) as [string, string][];

const UNARCHIVE_RECENCY_REASON =
  "the local store's unarchive stamps recency with now; 0.169.0 keeps the thread's recency (owned by the store's mutation work, DIFFERENCES.md §4; remove when fixed)";

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  ...CLI_VERSION_STEPS.map(
    ([step, path]): KnownDifference => ({
      step,
      path,
      values: ['0.169.0', '0.1.0'],
      reason: CLI_VERSION_REASON,
    }),
  ),
  {
    step: 'm45 unarchive threadId="01a20154-30c0-7d63-b495-655da3e5d7a1"',
    path: '.response.result.thread.recencyAt',
    reason: UNARCHIVE_RECENCY_REASON,
  },
  {
    step: 'm55 unarchive threadId="01a20154-2757-7901-8c51-658ef2fd3f12"',
    path: '.response.result.thread.recencyAt',
    reason: UNARCHIVE_RECENCY_REASON,
  },
];

/** Rejects entries that could excuse more than one path on one kind of step. */
export function checkKnownDifferences(entries: readonly KnownDifference[]): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    const byStep = entry.step !== undefined;
    const byKind = entry.kind !== undefined && entry.role !== undefined;
    if (byStep === byKind) problems.push(`${entry.path}: name one step, or one kind and one role`);
    if (!entry.path.startsWith('.') || /[*?]/.test(entry.path))
      problems.push(`${entry.path}: not one exact JSON path`);
    if (entry.reason.trim().length < 20) problems.push(`${entry.path}: the reason is missing`);
  }
  return problems;
}
