import {
  getThread,
  inheritFirstUserMessage,
  patchThreadMetadata,
  type StateDb,
  setThreadArchived,
  type ThreadLocation,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
  upsertThread,
} from '@skein/state';
import { extractThreadMetadataFromFile } from '../extract-file.js';
import { isArchivedRolloutPath } from '../find-thread-path.js';
import { parseRolloutFileName, plainRolloutPath, resolveRolloutFile } from '../layout.js';
import { CwdNormalizer } from './files.js';

/**
 * How `reconcileRolloutFile` repairs a row: the home (archived flag from the file's location,
 * index names) or an explicit archived state, and the default provider.
 */
export interface RepairOptions {
  /** Lets the archived flag follow the file's location, and supplies index names. */
  codexHome?: string;
  /** The file's archived state; default: from its location under `codexHome`. */
  archived?: boolean;
  defaultProvider?: string;
  /**
   * Whether a fork by reference takes its base's preview (default). Codex's list-time
   * reconcile derives the preview from the fork's own file, which holds only its own turns.
   */
  inheritPreview?: boolean;
  /**
   * Whether an existing row keeps its git columns as they are, even empty (Codex's list-time
   * reconcile leaves git info that a metadata update cleared cleared); default: the row's git
   * fields win where set, the rollout's fill the others.
   */
  keepRowGit?: boolean;
}

const cwds = new CwdNormalizer();
const MEMORY_MODES: ReadonlySet<string> = new Set(['enabled', 'disabled', 'polluted']);

function archivedFor(path: string, options: RepairOptions): boolean | undefined {
  if (options.archived !== undefined) return options.archived;
  return options.codexHome !== undefined
    ? isArchivedRolloutPath(options.codexHome, path)
    : undefined;
}

/**
 * Whether a row already points at the file at `path`, with the archived flag the file's
 * location gives: nothing for a read-repair to do (decided without a promise, so a page of
 * unchanged rows costs no awaits).
 */
export function rowPointsAtFile(
  row: Pick<ThreadLocation, 'rolloutPath' | 'archived'>,
  path: string,
  options: RepairOptions,
): boolean {
  const archived = archivedFor(path, options) ?? row.archived;
  return row.rolloutPath === plainRolloutPath(path) && row.archived === archived;
}

/**
 * Re-derives a thread's row from its rollout file (spec rollout-state §5.7): full extraction,
 * existing git kept (by the upsert), an explicit title (one that differs from the first user
 * message) kept, the archived flag from the file's location, and the rollout's memory mode (names
 * stay where Codex keeps them: the row's own, else the session index). Returns the stored row;
 * null if the file is gone.
 */
export async function reconcileRolloutFile(
  db: StateDb,
  path: string,
  options: RepairOptions = {},
): Promise<ThreadMetadata | null> {
  const file = await resolveRolloutFile(path);
  if (file === null) return null;
  const archived = archivedFor(path, options) ?? false;
  const extracted = await extractThreadMetadataFromFile(file, {
    defaultProvider: options.defaultProvider ?? db.defaultProvider,
    archived,
    rolloutPath: plainRolloutPath(path),
  });
  const metadata = extracted.metadata;
  metadata.cwd = cwds.normalize(metadata.cwd);
  const existing = await getThread(db.ctx, metadata.id);
  if (existing && existing.title !== '' && existing.title !== existing.firstUserMessage) {
    metadata.title = existing.title;
  }
  if (existing && options.keepRowGit === true) {
    metadata.gitSha = existing.gitSha;
    metadata.gitBranch = existing.gitBranch;
    metadata.gitOriginUrl = existing.gitOriginUrl;
  }
  metadata.archived = archived;
  metadata.archivedAtMs = archived ? (existing?.archivedAtMs ?? extracted.mtimeMs) : null;
  await upsertThread(db.ctx, metadata);
  const mode = extracted.memoryMode;
  await patchThreadMetadata(db.ctx, metadata.id, {
    memoryMode:
      mode !== null && MEMORY_MODES.has(mode) ? (mode as ThreadMemoryModeValue) : 'enabled',
  });
  if (extracted.historyBase !== null && options.inheritPreview !== false) {
    await inheritFirstUserMessage(db.ctx, metadata.id, extracted.historyBase.thread_id);
  }
  return (await getThread(db.ctx, metadata.id)) ?? null;
}

/**
 * What a read-repair did: nothing, fixed the row in place, rebuilt it from the file, or failed
 * (best effort, never thrown).
 */
export type RepairResult = 'unchanged' | 'repaired' | 'reconciled' | 'failed';

/**
 * Points a thread's row at the file where it was just found (spec §5.7 read-repair): a row
 * that exists gets its path and archived flag fixed in place (no other column moves); a missing
 * row is rebuilt from the file. Never throws: the DB is an index, repairs are best effort.
 */
export async function readRepairRolloutPath(
  db: StateDb,
  path: string,
  options: RepairOptions & {
    threadId?: string;
    /**
     * The thread's row as the caller just read it (null: no row), so a page of repairs reads
     * its rows in one query; absent: read here.
     */
    row?: ThreadLocation | null | undefined;
  } = {},
): Promise<RepairResult> {
  try {
    const id = options.threadId ?? parseRolloutFileName(path)?.threadId;
    const row =
      options.row !== undefined
        ? (options.row ?? undefined)
        : id === undefined
          ? undefined
          : await getThread(db.ctx, id);
    if (row) {
      if (rowPointsAtFile(row, path, options)) return 'unchanged';
      await setThreadArchived(db.ctx, row.id, {
        archived: archivedFor(path, options) ?? row.archived,
        rolloutPath: plainRolloutPath(path),
        archivedAtMs: row.archivedAtMs ?? row.updatedAtMs,
      });
      return 'repaired';
    }
    return (await reconcileRolloutFile(db, path, options)) === null ? 'failed' : 'reconciled';
  } catch {
    return 'failed';
  }
}
