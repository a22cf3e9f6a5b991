import type { ThreadId, ThreadMemoryModeValue, ThreadMetadata } from '@skein/state/thread-core';
import type { ExtractOutcome } from './extract.js';

/*
 * Extraction outcomes as flat lists of primitives, for the backfill's reader thread to send
 * back ready rows: a structured clone of one array of strings, numbers and nulls is a copy of
 * the values, where cloning a metadata object per file also re-creates its ~35 property names
 * and shapes on the receiving thread. Values go in `METADATA_FIELDS` order; an absent optional
 * field travels as `undefined` and stays absent.
 */

/** Every `ThreadMetadata` field, in the order they travel. */
const METADATA_FIELDS = [
  'id',
  'rolloutPath',
  'createdAtMs',
  'updatedAtMs',
  'recencyAtMs',
  'source',
  'threadSource',
  'agentNickname',
  'agentRole',
  'agentPath',
  'modelProvider',
  'model',
  'reasoningEffort',
  'cwd',
  'cliVersion',
  'title',
  'name',
  'preview',
  'firstUserMessage',
  'sandboxPolicy',
  'sandboxPolicyLegacy',
  'approvalMode',
  'tokensUsed',
  'archived',
  'archivedAtMs',
  'gitSha',
  'gitBranch',
  'gitOriginUrl',
  'memoryMode',
  'parentThreadId',
  'forkedFromId',
  'historyMode',
  'originator',
] as const satisfies readonly (keyof ThreadMetadata)[];

// A field added to ThreadMetadata and not listed above fails to compile here.
type UnlistedField = Exclude<keyof ThreadMetadata, (typeof METADATA_FIELDS)[number]>;
const everyFieldListed: [UnlistedField] extends [never] ? true : UnlistedField = true;
void everyFieldListed;

/** What a flat outcome starts with. */
export enum OutcomeTag {
  /** Followed by the metadata fields, the memory mode to set and the preview's base thread. */
  Ok = 0,
  /** Followed by the path and the error message. */
  Failed = 1,
  /** Nothing follows: the file is extracted on the receiving thread. */
  ExtractHere = 2,
}

export type FlatValue = string | number | boolean | null | undefined;

/** Appends `outcome` to `out`. */
export function encodeOutcome(outcome: ExtractOutcome, out: FlatValue[]): void {
  if (!outcome.ok) {
    out.push(OutcomeTag.Failed, outcome.path, outcome.error);
    return;
  }
  out.push(OutcomeTag.Ok);
  const metadata = outcome.entry.metadata as unknown as Record<string, FlatValue>;
  for (const field of METADATA_FIELDS) out.push(metadata[field]);
  out.push(outcome.entry.setMemoryMode, outcome.inheritsPreviewFrom);
}

/**
 * Decodes the outcome at `values[at]` (after its tag); returns it and where the next one
 * starts, or null for `ExtractHere`.
 */
export function decodeOutcome(
  values: readonly FlatValue[],
  at: number,
): { outcome: ExtractOutcome | null; next: number } {
  const tag = values[at] as OutcomeTag;
  if (tag === OutcomeTag.ExtractHere) return { outcome: null, next: at + 1 };
  if (tag === OutcomeTag.Failed) {
    const outcome: ExtractOutcome = {
      ok: false,
      path: values[at + 1] as string,
      error: values[at + 2] as string,
    };
    return { outcome, next: at + 3 };
  }
  // One literal in METADATA_FIELDS order (a test round-trips every field): one shape for all.
  const v = values;
  const m = at + 1;
  const metadata: ThreadMetadata = {
    id: v[m + 0] as ThreadId,
    rolloutPath: v[m + 1] as string,
    createdAtMs: v[m + 2] as number,
    updatedAtMs: v[m + 3] as number,
    recencyAtMs: v[m + 4] as number,
    source: v[m + 5] as string,
    threadSource: v[m + 6] as string | null,
    agentNickname: v[m + 7] as string | null,
    agentRole: v[m + 8] as string | null,
    agentPath: v[m + 9] as string | null,
    modelProvider: v[m + 10] as string,
    model: v[m + 11] as string | null,
    reasoningEffort: v[m + 12] as string | null,
    cwd: v[m + 13] as string,
    cliVersion: v[m + 14] as string,
    title: v[m + 15] as string,
    name: v[m + 16] as string | null,
    preview: v[m + 17] as string,
    firstUserMessage: v[m + 18] as string,
    sandboxPolicy: v[m + 19] as string,
    approvalMode: v[m + 21] as string,
    tokensUsed: v[m + 22] as number,
    archived: v[m + 23] as boolean,
    archivedAtMs: v[m + 24] as number | null,
    gitSha: v[m + 25] as string | null,
    gitBranch: v[m + 26] as string | null,
    gitOriginUrl: v[m + 27] as string | null,
    memoryMode: v[m + 28] as ThreadMemoryModeValue,
    parentThreadId: v[m + 29] as ThreadId | null,
    forkedFromId: v[m + 30] as ThreadId | null,
    historyMode: v[m + 31] as ThreadMetadata['historyMode'],
    originator: v[m + 32] as string | null,
  };
  // Set only when present, as extraction does (absent and undefined read the same anyway).
  const legacy = v[m + 20] as string | null | undefined;
  if (legacy !== undefined) metadata.sandboxPolicyLegacy = legacy;
  const next = m + METADATA_FIELDS.length;
  const setMemoryMode = values[next] as ThreadMemoryModeValue | undefined;
  const inheritsPreviewFrom = values[next + 1] as string | null;
  const entry = setMemoryMode === undefined ? { metadata } : { metadata, setMemoryMode };
  return { outcome: { ok: true, entry, inheritsPreviewFrom }, next: next + 2 };
}
