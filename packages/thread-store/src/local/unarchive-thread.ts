/**
 * `LocalThreadStore.unarchiveThread`'s file part: find the archived rollout (inside
 * `archived_sessions/`, named for the thread, not a link out of the home), move it back into the
 * dated `sessions/YYYY/MM/DD/` folder its file name's time names (one rename), touch its mtime
 * (an unarchived thread counts as just updated, as in Codex), then mark its row active. The store
 * then reads the thread back from its new place.
 *
 * Crash safety: the rename is the commit point. A crash before it changes nothing; a crash
 * after it leaves an active file with an old mtime, or under a row that still says archived,
 * which the next lookup or listing repairs from the file's place (rollout's read-repair);
 * unarchiving again is refused, the thread having no archived rollout.
 */
import { mkdir, rename, utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  archivedSessionsDir,
  compressedRolloutPath,
  resolveRolloutFile,
  unarchivedPathFor,
} from '@skein/rollout';
import { setThreadArchived } from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import type { ArchiveThreadParams } from '../types.js';
import type { LocalFileOpsHost } from './file-ops-host.js';
import { requireRolloutPath } from './rollout-port.js';
import { checkRolloutFileName, messageOf, scopedRolloutPath } from './rollout-scope.js';

/** Moves an archived rollout back into its dated `sessions/` folder; its restored plain path. */
export async function unarchiveLocalThread(
  host: LocalFileOpsHost,
  params: ArchiveThreadParams,
): Promise<string> {
  const { threadId } = params;
  const found = await requireRolloutPath(host, threadId, {
    archived: true,
    notFound: `no archived rollout found for thread id ${threadId}`,
  });
  await host.refuseLinkOutsideHome(found);
  const file = (await resolveRolloutFile(found)) ?? found;
  const source = scopedRolloutPath(file, archivedSessionsDir(host.codexHome), 'archived');
  checkRolloutFileName(source, threadId);
  const restoredPlain = unarchivedPathFor(host.codexHome, basename(source));
  if (restoredPlain === null) {
    throw ThreadStoreError.invalidRequest(`rollout path \`${source}\` missing filename timestamp`);
  }
  const target = source.endsWith('.zst') ? compressedRolloutPath(restoredPlain) : restoredPlain;
  try {
    await mkdir(join(target, '..'), { recursive: true });
    await rename(source, target);
  } catch (error) {
    throw ThreadStoreError.internal(`failed to unarchive thread: ${messageOf(error)}`, error);
  }
  const now = new Date();
  try {
    await utimes(target, now, now);
  } catch (error) {
    throw ThreadStoreError.internal(
      `failed to update unarchived thread timestamp: ${messageOf(error)}`,
      error,
    );
  }
  if (host.stateDb !== undefined) {
    await setThreadArchived(host.stateDb.ctx, threadId, {
      archived: false,
      rolloutPath: restoredPlain,
      updatedAtMs: now.getTime(),
    }).catch((error: unknown) =>
      host.warn(`failed to mark thread ${threadId} unarchived: ${messageOf(error)}`),
    );
  }
  return restoredPlain;
}
