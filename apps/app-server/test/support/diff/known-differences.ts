/**
 * Differences between Skein and codex 0.169.0 on generated sequences that Skein cannot
 * remove, each for ONE step (its label, or its kind together with one thread role) and ONE
 * exact JSON path, with the reason. Nothing here may excuse a path on every step, and
 * `readStates` / `readState` are compared like any other field.
 */
import type { KnownDifference } from './compare.js';

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

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
