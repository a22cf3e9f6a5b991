import type { ThreadId } from '@skein/thread-store';
import type { ThreadManager, ThreadManagerEventName, ThreadManagerEvents } from '../src/index.js';

/** One recorded event in a compact, comparable form. */
export type RecordedEvent = [ThreadManagerEventName, ThreadId, string?];

const EVENT_NAMES: ThreadManagerEventName[] = [
  'threadStarted',
  'statusChanged',
  'nameUpdated',
  'archived',
  'unarchived',
  'deleted',
  'closed',
];

/** Records every manager event as `[name, threadId, detail]` in arrival order. */
export function recordEvents(manager: ThreadManager): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const name of EVENT_NAMES) {
    manager.on(name, (payload: ThreadManagerEvents[typeof name]) => {
      if ('thread' in payload) events.push([name, payload.thread.threadId]);
      else if ('status' in payload) events.push([name, payload.threadId, payload.status.type]);
      else if ('threadName' in payload) {
        events.push([name, payload.threadId, payload.threadName ?? 'null']);
      } else events.push([name, payload.threadId]);
    });
  }
  return events;
}

/** Resolves on the first `name` event for `threadId`; rejects after `timeoutMs`. */
export function nextEvent<K extends ThreadManagerEventName>(
  manager: ThreadManager,
  name: K,
  threadId: ThreadId,
  timeoutMs = 5_000,
): Promise<ThreadManagerEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} event for ${threadId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = manager.on(name, (payload) => {
      const id =
        'thread' in payload
          ? payload.thread.threadId
          : (payload as { threadId: ThreadId }).threadId;
      if (id !== threadId) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Lets events scheduled after a result (setImmediate) run. */
export function afterResults(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
