/**
 * Differences between Skein and codex 0.169.0 that are understood and accepted, each with the
 * reason. A diff line is excused only if a rule matches both its step label and its path; any
 * other difference fails the differential test.
 */

export interface KnownDifference {
  /** Step labels the rule applies to (RegExp on the label). */
  steps: RegExp;
  /** Diff paths it excuses (RegExp on the path, e.g. `.result.data[3].recencyAt`). */
  paths: RegExp;
  reason: string;
}

/** The 0.131 home read by 0.169.0, which migrates its state DB (DIFFERENCES.md §2). */
const ON_0131_HOME = 'codex-0.131';

interface ScopedDifference extends KnownDifference {
  /** The fixture the rule is for; absent = both. */
  fixture?: string;
}

export const KNOWN_DIFFERENCES: readonly ScopedDifference[] = [
  {
    steps: /^(unarchive-plain|unarchive-parent|archive-loaded-unarchive)$/,
    paths: /^\.result\.thread\.(recencyAt|updatedAt)$/,
    reason:
      "the local store's unarchive stamps the update time and recency with now; 0.169.0 keeps them (store mutation paths, DIFFERENCES.md §4)",
  },
  {
    fixture: ON_0131_HOME,
    steps: /^(start|start-read|start-resume|start-ephemeral)$/,
    paths: /^\.(result|notifications\[0\]\.params)\.thread\.historyMode$/,
    reason:
      '0.169.0 writes paginated threads even in a 0.131 home (creating thread_history_1.sqlite); Skein writes legacy ones there (ARCHITECTURE decision 3, DIFFERENCES.md §2)',
  },
  {
    fixture: ON_0131_HOME,
    steps:
      /^(list-search-empty|list-vscode|list-db-only|list-excluded|read-T5|meta-(set|partial|clear-sha|clear-all)|resume-read|list-end)$/,
    paths: /^\.result\.(thread|data\[\d+\])\.recencyAt$/,
    reason:
      '0.169.0 adds recency_at to a 0.131 DB and moves it only on turn starts; Skein, which does not migrate the DB, reads recency as the update time, which re-derivations and metadata updates move (DIFFERENCES.md §2)',
  },
];

/** Rules for comparing with an older binary (0.131.0), whose protocol Skein does not follow. */
export const OLDER_PROTOCOL_DIFFERENCES: readonly KnownDifference[] = [
  {
    steps: /^list-/,
    paths: /\.nextCursor$/,
    reason:
      "0.131.0's list cursor is a bare time; 0.169.0 (and Skein) append `|<thread id>` as a tie-break",
  },
];

export function isKnown(
  step: string,
  path: string,
  fixture: string,
  olderProtocol = false,
): KnownDifference | undefined {
  const rules = olderProtocol
    ? [...KNOWN_DIFFERENCES, ...OLDER_PROTOCOL_DIFFERENCES]
    : KNOWN_DIFFERENCES;
  return rules.find((rule) => {
    const scoped = (rule as ScopedDifference).fixture;
    if (scoped !== undefined && scoped !== fixture) return false;
    return rule.steps.test(step) && rule.paths.test(path);
  });
}
