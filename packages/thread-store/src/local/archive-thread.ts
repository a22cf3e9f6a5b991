/**
 * `LocalThreadStore.archiveThread`: refuse while another process writes the thread, find its
 * active rollout (inside `sessions/`, named for the thread, not a link out of the home), move it
 * into `archived_sessions/` (one rename), then mark its row archived with the moved file's mtime.
 *
 * Crash safety: the rename is the commit point. A crash before it changes nothing; a crash
 * after it leaves an archived file under a row that still says active, which the next lookup
 * or listing repairs from the file's place (rollout's read-repair: the files are the truth);
 * archiving again is refused, the thread having no active rollout.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  archivedPathFor,
  archivedSessionsDir,
  resolveRolloutFile,
  sessionsDir,
} from '@skein/rollout';
import { setThreadArchived } from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import type { ArchiveThreadParams } from '../types.js';
import type { LocalFileOpsHost } from './file-ops-host.js';
import { requireRolloutPath } from './rollout-port.js';
import { checkRolloutFileName, messageOf, scopedRolloutPath } from './rollout-scope.js';

/** Moves an active thread's rollout into `archived_sessions/` and marks its row archived. */
export async function archiveLocalThread(
  host: LocalFileOpsHost,
  params: ArchiveThreadParams,
): Promise<void> {
  const { threadId } = params;
  await host.assertNoOtherWriter(threadId);
  const found = await requireRolloutPath(host, threadId, {
    archived: false,
    notFound: `no rollout found for thread id ${threadId}`,
  });
  await host.refuseLinkOutsideHome(found);
  const file = (await resolveRolloutFile(found)) ?? found;
  const source = scopedRolloutPath(file, sessionsDir(host.codexHome), 'sessions');
  checkRolloutFileName(source, threadId);
  const target = join(archivedSessionsDir(host.codexHome), basename(source));
  try {
    await mkdir(archivedSessionsDir(host.codexHome), { recursive: true });
    await rename(source, target);
  } catch (error) {
    throw ThreadStoreError.internal(`failed to archive thread: ${messageOf(error)}`, error);
  }
  if (host.stateDb !== undefined) {
    const archivedPath = archivedPathFor(host.codexHome, basename(source));
    // As Codex: the row's update time becomes the moved file's mtime (kept by the rename).
    const mtimeMs = await stat(target)
      .then((info) => Math.floor(info.mtimeMs))
      .catch(() => undefined);
    await setThreadArchived(host.stateDb.ctx, threadId, {
      archived: true,
      rolloutPath: archivedPath,
      archivedAtMs: Date.now(),
      ...(mtimeMs !== undefined ? { updatedAtMs: mtimeMs } : {}),
    }).catch((error: unknown) =>
      host.warn(`failed to mark thread ${threadId} archived: ${messageOf(error)}`),
    );
  }
}
