/**
 * `ThreadManager.readThread`: a thread without loading it — the stored view first, else the
 * loaded thread's live handle — with the history refusals of spec §4. Read-only: a crash
 * leaves nothing behind.
 */
import type { RolloutItem, StoredThread, ThreadId } from '@skein/thread-store';
import { ThreadManagerError } from './errors.js';
import type { ManagerHost } from './manager-host.js';
import { missingLineage } from './resume-thread.js';
import { isMissingThread } from './store-errors.js';
import type { ReadThreadOptions, ThreadView } from './types.js';

/**
 * Reads a thread without loading it. The stored view is preferred (archived included); a
 * loaded thread with nothing stored yet is returned as its live handle; otherwise
 * `thread not loaded: <id>`. With `includeHistory`, the refusals of spec §4 apply:
 * ephemeral ⇒ `ephemeral threads do not support <purpose>`; a loaded thread before its
 * first user message ⇒ `thread <id> is not materialized yet; ...` (legacy) or
 * `list_turns is not supported yet` (paginated, includeTurns).
 */
export async function readManagedThread(
  host: ManagerHost,
  threadId: ThreadId,
  options: ReadThreadOptions = {},
): Promise<ThreadView> {
  const entry = host.entries.get(threadId);
  const loaded = entry?.thread ?? null;
  const purpose = options.historyPurpose ?? 'includeTurns';
  if (options.includeHistory === true && loaded !== null) {
    if (loaded.ephemeral) throw ThreadManagerError.ephemeralHistory(threadId, purpose);
    if (!loaded.hasUserMessage) {
      // Codex 0.169 on a paginated thread before its first message: asked for its turns by
      // `thread/read`, it writes the thread out bare and has none to list; a thread written
      // bare has none to list for `thread/turns/list` either. Otherwise (never written, or
      // written with items but no message) it is not materialized yet.
      if (loaded.historyMode === 'paginated' && !loaded.hasRecordedItems) {
        const written = await loaded.isWritten();
        if (purpose === 'includeTurns' && !written) await loaded.persist();
        if (purpose === 'includeTurns' || written) {
          throw ThreadManagerError.unsupported('list_turns');
        }
      }
      throw ThreadManagerError.notMaterialized(threadId, purpose);
    }
  }
  let stored: StoredThread | null = null;
  if (loaded === null) {
    try {
      stored = await host.store.readThread({
        threadId,
        includeArchived: true,
        includeHistory: options.includeHistory === true,
      });
    } catch (error) {
      if (isMissingThread(error)) {
        const lineage =
          options.includeHistory === true ? await missingLineage(host, threadId) : null;
        throw lineage ?? ThreadManagerError.threadNotLoaded(threadId);
      }
      throw error;
    }
  } else if (!loaded.ephemeral) {
    stored = await loaded.readStored();
  }
  let history: RolloutItem[] | null = null;
  if (options.includeHistory === true) {
    if (loaded !== null) {
      history = await loaded.loadHistory();
    } else {
      // A stored thread without a message yet (named, say, before its first turn) has an
      // empty history in Codex 0.169, whatever its mode.
      history = stored?.history?.items ?? [];
    }
  }
  if (stored !== null) stored = { ...stored, history: null };
  return { threadId, stored, loaded, status: host.statusOf(threadId), history };
}
