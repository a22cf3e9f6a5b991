import { hideUnreadableThread, type StateDb } from '@skein/state';
import { RolloutError } from '../errors.js';
import { readSessionMetaLine } from '../head-summary.js';
import { parseRolloutFileName, plainRolloutPath } from '../layout.js';

/**
 * Rows of rollouts that cannot be read as threads — emptied, or whose first line is not a
 * valid session_meta — hidden from lists (their preview cleared, as a never-messaged thread's
 * is), so a list never offers a thread that cannot be opened. Each file is checked again here
 * (a failed import may have had another cause); the row is found by the id in the file name
 * and touched only while it points at that file. Best effort: returns how many were hidden.
 */
export async function hideUnreadableRollouts(
  db: { readonly ctx: StateDb['ctx'] },
  paths: readonly string[],
): Promise<number> {
  if (db.ctx.profile.readOnlyReason !== null) return 0;
  let hidden = 0;
  for (const path of paths) {
    const parsed = parseRolloutFileName(path);
    if (parsed === null) continue;
    try {
      await readSessionMetaLine(path);
      continue; // it reads now
    } catch (error) {
      if (!(error instanceof RolloutError)) continue;
      if (error.code !== 'EmptyFile' && error.code !== 'MissingSessionMeta') continue;
    }
    if (
      await hideUnreadableThread(db.ctx, parsed.threadId, plainRolloutPath(path)).catch(() => false)
    )
      hidden += 1;
  }
  return hidden;
}
