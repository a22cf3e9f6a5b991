/**
 * `LocalThreadStore.resumeThread`: find the thread's history mode and rollout (given history,
 * a given path, or a read), take Codex's writer lock, then reopen a recorder on the file,
 * paginated threads continuing their ordinals with the projection repaired.
 *
 * Crash safety: only the projection repair writes (the DB's own transactions); a crash leaves
 * the rollout as it was and the next open repairs the projection again.
 */
import { isAbsolute, join } from 'node:path';
import {
  type RolloutItem,
  RolloutRecorder,
  readProjectableLines,
  resolveRolloutFile,
} from '@skein/rollout';
import { ThreadStoreError } from '../errors.js';
import type { ResumeThreadParams, StoredThread, ThreadHistoryMode } from '../types.js';
import { duplicateWriter } from './create-thread.js';
import { ThreadProjection } from './paginated.js';
import { readLocalThread, readLocalThreadByRolloutPath } from './read-thread.js';
import { messageOf } from './rollout-scope.js';
import type { LocalStoreHost } from './store-host.js';

export async function resumeLocalThread(
  host: LocalStoreHost,
  params: ResumeThreadParams,
): Promise<void> {
  const { threadId } = params;
  if (host.writers.has(threadId)) throw duplicateWriter(threadId);
  const includeArchived = params.includeArchived ?? false;
  let historyMode: ThreadHistoryMode;
  let known: StoredThread | undefined;
  if (params.history != null) {
    historyMode = historyModeOfItems(params.history);
  } else if (params.rolloutPath != null) {
    known = await readLocalThreadByRolloutPath(host, {
      rolloutPath: params.rolloutPath,
      includeArchived,
    });
    historyMode = known.historyMode;
  } else {
    known = await readLocalThread(host, { threadId, includeArchived });
    historyMode = known.historyMode;
  }
  let path = params.rolloutPath ?? null;
  if (path === null) {
    known ??= await readLocalThread(host, { threadId, includeArchived });
    path = known.rolloutPath;
    if (path === null) {
      throw ThreadStoreError.internal(`thread ${threadId} does not have a rollout path`);
    }
  }
  const cwd = params.metadata.cwd;
  if (cwd === null || cwd === '') {
    throw ThreadStoreError.invalidRequest('local thread store requires a cwd');
  }
  const absolute = isAbsolute(path) ? path : join(host.codexHome, path);
  const lock = await host.takeWriterLock(threadId);
  let writer: RolloutRecorder;
  let projection: ThreadProjection | undefined;
  try {
    if (historyMode === 'paginated') {
      // Opening the writer repairs the projection, as Codex's does; ordinals continue.
      const file = (await resolveRolloutFile(absolute)) ?? absolute;
      let nextOrdinal: number;
      if (host.stateDb !== undefined && host.stateDb.historyDb() !== undefined) {
        const opened = await ThreadProjection.open(host.stateDb, threadId, file, host.warn);
        projection = opened.projection;
        nextOrdinal = opened.nextOrdinal;
      } else {
        nextOrdinal = ((await readProjectableLines(file)).at(-1)?.ordinal ?? -1) + 1;
      }
      writer = await RolloutRecorder.resume(absolute, {
        nextOrdinal,
        ...(projection ? { onWritten: projection.onWritten } : {}),
        ...(host.fsyncPolicy ? { fsyncPolicy: host.fsyncPolicy } : {}),
      });
    } else {
      writer = await RolloutRecorder.resume(
        absolute,
        host.fsyncPolicy ? { fsyncPolicy: host.fsyncPolicy } : {},
      );
    }
  } catch (error) {
    await lock?.release();
    if (error instanceof ThreadStoreError) throw error;
    throw ThreadStoreError.internal(
      `failed to resume local thread recorder: ${messageOf(error)}`,
      error,
    );
  }
  if (host.writers.has(threadId)) {
    await writer.discard();
    await lock?.release();
    throw duplicateWriter(threadId);
  }
  host.writers.set(threadId, { writer, historyMode, projection, lock });
}

function historyModeOfItems(items: readonly RolloutItem[]): ThreadHistoryMode {
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index];
    if (item?.type === 'session_meta') {
      return item.payload.history_mode === 'paginated' ? 'paginated' : 'legacy';
    }
  }
  return 'legacy';
}
