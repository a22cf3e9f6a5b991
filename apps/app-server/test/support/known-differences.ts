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

const ANY = /.*/;
/** Steps that resume or fork a 0.169 (paginated) thread, or depend on one having been resumed/forked. */
const PAGINATED_RUNTIME =
  /^(resume-cold|resume-loaded|resume-read|resume-inject.*|resume-unsubscribe|archive-loaded.*|fork|fork-read|list-end)$/;

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    steps: /^(fork|fork-read|list-end|list-recency-asc|list-subagents)$/,
    paths: /\.originator$/,
    reason:
      "seen only with the 0.131 home under codex 0.169.0: a fork of a legacy thread reports the originator of the inherited session_meta where 0.169.0 reports the forking client, and some listed threads (sub-agents among them) have no originator in Skein's index where 0.169.0 reports one (open)",
  },
  {
    steps: /^(start|start-ephemeral|start-read|start-resume)$/,
    paths: /\.historyMode$/,
    reason:
      'Skein writes the legacy rollout format for new threads (ARCHITECTURE decision 3); 0.169.0 writes paginated',
  },
  {
    steps: /^list-back$/,
    paths: ANY,
    reason:
      'paging back with backwardsCursor: Skein returns the anchor thread too (the documented intent); 0.169.0 skips it (spec §2.5 caveat)',
  },
  {
    steps: ANY,
    paths: /\.(recencyAt|updatedAt)$/,
    reason:
      "Skein's state index is its own (ARCHITECTURE decision 2), built from the rollout files: recency and update times come from the files, not from Codex's state_5.sqlite",
  },
  {
    steps: /^list-/,
    paths: /\.data\[\d+\]\.forkedFromId$/,
    reason:
      "0.169.0's SQLite-backed list leaves forkedFromId null for forks; Skein's index takes it from the fork's session_meta (thread/read agrees on both)",
  },
  {
    steps: ANY,
    paths: /\.gitInfo(\.(sha|branch|originUrl))?$/,
    reason:
      "git metadata updates made by Codex live only in Codex's SQLite (decision 1: lost when only SQLite held them); Skein reports the rollout's session_meta git block",
  },
  {
    steps: ANY,
    paths: /\.(preview|parentThreadId|threadSource)$/,
    reason:
      "the index is rebuilt from rollouts: a 0.169 fork-by-reference previews its own first message, and a sub-agent's spawn facts come from its rollout, not Codex's SQLite",
  },
  {
    steps: /^(list-recency-asc|list-updated)$/,
    paths:
      /\.(data\[\d+\]\.(id|sessionId|createdAt|path|cwd|name|model|cliVersion|environments|status\.type)|backwardsCursor)$/,
    reason:
      'ordering by recency/update time follows those index times (see above), so the order differs',
  },
  {
    steps: /^list-(combo|search-.*)$/,
    paths:
      /\.(data\.length|data\[\d+\]\.(id|sessionId|createdAt|path|cwd|name)|backwardsCursor|nextCursor)$/,
    reason:
      "search text of a 0.169 fork by reference: Skein's index takes the fork's title from its inherited history, 0.169.0 searches the fork's own first message",
  },
  {
    steps: /^list-subagents$/,
    paths: /\.backwardsCursor$/,
    reason:
      'the sub-agent filter runs in the app-server over the store page; its anchor time is the rollout time in ms',
  },
  {
    steps: PAGINATED_RUNTIME,
    paths: ANY,
    reason:
      'the local store refuses to resume or fork 0.169 paginated threads (Unsupported paginated_threads, -32601); reading them works',
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
    if (rule.steps === PAGINATED_RUNTIME && fixture !== 'codex-0.169') return false;
    return rule.steps.test(step) && rule.paths.test(path);
  });
}
