/**
 * `ThreadManager.updateThreadMetadata` and its named forms (name, git, memory mode): a loaded
 * thread through its LiveThread (ordered with its history writes), one not loaded straight to
 * the store, with the events that follow the result.
 *
 * Crash safety: one store metadata update (see the store's crash note); an event not yet sent
 * when a crash comes is lost with the connection that would have received it.
 */
import type {
  GitInfoPatch,
  StoredThread,
  ThreadId,
  ThreadMemoryMode,
  ThreadMetadataPatch,
} from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import type { ManagerHost } from './manager-host.js';
import { isMissingThread } from './store-errors.js';

/**
 * THE metadata entrypoint. A loaded durable thread goes through its LiveThread (ordered with
 * its history writes; a pristine thread is materialized first); a loaded ephemeral thread
 * fails `ephemeral thread does not support metadata updates: <id>`; a thread that is not
 * loaded goes straight to the store (not loading it). Unknown ⇒ `no rollout found ...`.
 */
export async function updateManagedThreadMetadata(
  host: ManagerHost,
  threadId: ThreadId,
  patch: ThreadMetadataPatch,
  options: { includeArchived?: boolean } = {},
): Promise<StoredThread> {
  const includeArchived = options.includeArchived ?? false;
  const entry = host.entries.get(threadId);
  try {
    if (entry !== undefined && !entry.pendingUnload) {
      return await entry.thread.applyMetadata((live) =>
        live.updateMetadata(patch, includeArchived),
      );
    }
    if (!includeArchived) await assertActiveStored(host, threadId);
    return await host.store.updateThreadMetadata({ threadId, patch, includeArchived });
  } catch (error) {
    if (isMissingThread(error)) throw ThreadManagerError.noRolloutFound(threadId, error);
    throw error;
  }
}

/** Fails `no rollout found` unless the store holds the thread un-archived. */
export async function assertActiveStored(
  host: ManagerHost,
  threadId: ThreadId,
): Promise<StoredThread> {
  let stored: StoredThread;
  try {
    stored = await host.store.readThread({ threadId, includeArchived: true });
  } catch (error) {
    if (isMissingThread(error)) throw ThreadManagerError.noRolloutFound(threadId, error);
    throw error;
  }
  if (stored.archivedAtMs !== null) throw ThreadManagerError.noRolloutFound(threadId);
  return stored;
}

/**
 * `thread/name/set`: trims the name (empty ⇒ `thread name must not be empty`), updates it
 * through the metadata entrypoint (archived threads refused), emits `nameUpdated` after.
 */
export async function setManagedThreadName(
  host: ManagerHost,
  threadId: ThreadId,
  name: string,
): Promise<StoredThread> {
  const normalized = name.trim();
  if (normalized === '') throw ThreadManagerError.invalidRequest('thread name must not be empty');
  const stored = await updateManagedThreadMetadata(host, threadId, { name: normalized });
  host.emitAfterResult([
    () => host.events.emit('nameUpdated', { threadId, threadName: normalized }),
  ]);
  return stored;
}

/**
 * `thread/metadata/update` git fields: omitted = unchanged, null = clear, string = trimmed
 * replacement. Validation texts follow Codex. Archived threads are allowed; no event.
 */
export async function updateManagedThreadGitInfo(
  host: ManagerHost,
  threadId: ThreadId,
  gitInfo: GitInfoPatch | null | undefined,
): Promise<StoredThread> {
  if (gitInfo == null) {
    throw ThreadManagerError.invalidRequest(
      'thread metadata update must include at least one field',
    );
  }
  const patch: GitInfoPatch = {};
  for (const key of ['sha', 'branch', 'originUrl'] as const) {
    const value = gitInfo[key];
    if (value === undefined) continue;
    if (value === null) {
      patch[key] = null;
      continue;
    }
    const trimmed = value.trim();
    if (trimmed === '') throw ThreadManagerError.invalidRequest(`gitInfo.${key} must not be empty`);
    patch[key] = trimmed;
  }
  if (Object.keys(patch).length === 0) {
    throw ThreadManagerError.invalidRequest('gitInfo must include at least one field');
  }
  return updateManagedThreadMetadata(host, threadId, { gitInfo: patch }, { includeArchived: true });
}

/** Sets a thread's memory mode through the metadata entrypoint. */
export async function setManagedThreadMemoryMode(
  host: ManagerHost,
  threadId: ThreadId,
  mode: ThreadMemoryMode,
): Promise<StoredThread> {
  return updateManagedThreadMetadata(
    host,
    threadId,
    { memoryMode: mode },
    { includeArchived: true },
  );
}
