import { type StableWireThread, stableThread, storedWireThread } from '@skein/app-server-protocol';
import type { StoredThread } from '@skein/thread-store';

/**
 * A thread as `--json` prints it: the app-server's `Thread` (same mapping, field names and
 * order as `thread/list`), without the experimental fields the stable schema leaves out, so
 * tools written against the stable protocol can read it. The CLI never loads a thread, so its
 * status is `notLoaded`.
 */
export function toThreadJson(thread: StoredThread): StableWireThread {
  return stableThread(storedWireThread(thread));
}

/** What a person calls a thread: its name, else its preview, else its id. */
export function displayTitle(thread: StoredThread): string {
  if (thread.name) return thread.name;
  if (thread.preview) return thread.preview;
  return thread.threadId;
}
