import type { BatchUpsertEntry, ThreadMemoryModeValue } from '@skein/state';
import {
  extractThreadMetadataFromFileSync,
  extractThreadMetadataFromPrescan,
  type PrescannedRollout,
} from '../extract-file.js';
import type { CwdNormalizer } from './files.js';

/** What extraction needs to know about one file (plain data: it crosses worker threads). */
export interface ExtractJob {
  path: string;
  rolloutPath: string;
  archived: boolean;
}

export type ExtractOutcome =
  | { ok: true; entry: BatchUpsertEntry; inheritsPreviewFrom: string | null }
  | { ok: false; path: string; error: string };

const MEMORY_MODES: ReadonlySet<string> = new Set(['enabled', 'disabled', 'polluted']);

/**
 * Row for one rollout, as backfill and reconcile store it (spec §5.8): the file's metadata
 * with a normalized cwd, `archived_at` = file mtime for archived files, and the memory mode
 * the rollout records (`enabled` when it records none). With `prescan` (the file as the
 * reader thread classified it) the file is not read again.
 */
export function extractBackfillEntry(
  job: ExtractJob,
  defaultProvider: string,
  cwds: CwdNormalizer,
  prescan?: PrescannedRollout,
): ExtractOutcome {
  try {
    const options = { defaultProvider, archived: job.archived, rolloutPath: job.rolloutPath };
    const result =
      prescan === undefined
        ? extractThreadMetadataFromFileSync(job.path, options)
        : extractThreadMetadataFromPrescan(job.path, options, prescan);
    const metadata = result.metadata;
    metadata.cwd = cwds.normalize(metadata.cwd);
    metadata.archived = job.archived;
    metadata.archivedAtMs = job.archived ? result.mtimeMs : null;
    const mode = result.memoryMode;
    const memoryMode: ThreadMemoryModeValue =
      mode !== null && MEMORY_MODES.has(mode) ? (mode as ThreadMemoryModeValue) : 'enabled';
    return {
      ok: true,
      entry: { metadata, setMemoryMode: memoryMode },
      // A 0.169 fork by reference: its history starts with the base's lines, so its first user
      // message (preview, title) is the base's.
      inheritsPreviewFrom: result.historyBase !== null ? result.historyBase.thread_id : null,
    };
  } catch (error) {
    return {
      ok: false,
      path: job.path,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
