import { isThreadId } from '@skein/protocol';
import { findRolloutPathById, type StateDb } from '@skein/state';
import {
  type FindThreadPathOptions,
  findThreadPath,
  isArchivedRolloutPath,
} from '../find-thread-path.js';
import { readSessionMetaLine } from '../head-summary.js';
import { resolveRolloutFile, rolloutPathInHome } from '../layout.js';
import { readRepairRolloutPath } from './repair.js';

/** `findThreadPathWithDb`'s options: those of `findThreadPath`, plus the state DB to ask first. */
export interface FindThreadPathWithDbOptions extends FindThreadPathOptions {
  stateDb?: StateDb | undefined;
}

/**
 * A thread's rollout file, DB first (spec rollout-state §4.6): the row's path is accepted when
 * the file exists and its first `session_meta` names the thread — whatever the file is called.
 * A stale row (file gone, or another thread's file) falls back to the file-name search, and the
 * row is repaired to what was found. Returns the file (plain, or `.zst` when only that exists);
 * null when nothing is found (or the id is no UUID).
 */
export async function findThreadPathWithDb(
  codexHome: string,
  threadId: string,
  options: FindThreadPathWithDbOptions = {},
): Promise<string | null> {
  if (!isThreadId(threadId)) return null;
  const id = threadId.toLowerCase();
  const db = options.stateDb;
  let unverified: string | null = null;
  if (db !== undefined) {
    try {
      const hinted = await findRolloutPathById(db.ctx, id, options.archived);
      // A row of a copied or moved home names the old home: only its place in this one counts.
      const inHome = hinted === undefined ? null : rolloutPathInHome(codexHome, hinted);
      const file = inHome === null ? null : await resolveRolloutFile(inHome);
      if (file !== null) {
        try {
          const meta = await readSessionMetaLine(file);
          if (String(meta.id).toLowerCase() === id) {
            if (inHome !== hinted) {
              await readRepairRolloutPath(db, file, {
                threadId: id,
                codexHome,
                archived: isArchivedRolloutPath(codexHome, file),
              });
            }
            return file;
          }
        } catch {
          unverified = file; // exists but unreadable now: better than nothing if the search fails
        }
      }
    } catch {
      // the DB is only an index
    }
  }
  const found = await findThreadPath(codexHome, id, { archived: options.archived });
  if (found !== null) {
    if (db !== undefined) {
      await readRepairRolloutPath(db, found, {
        threadId: id,
        codexHome,
        archived: isArchivedRolloutPath(codexHome, found),
      });
    }
    return found;
  }
  return unverified;
}
