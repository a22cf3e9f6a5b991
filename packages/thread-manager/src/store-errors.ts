/** How the manager recognizes store answers. */
import { ThreadStoreError } from '@skein/thread-store';

export function isStoreError(error: unknown, ...codes: ThreadStoreError['code'][]): boolean {
  return error instanceof ThreadStoreError && codes.includes(error.code);
}

/**
 * A store's "this thread is not there": `ThreadNotFound`, or the `InvalidRequest` texts the
 * local store answers with for a missing (or, when excluded, archived) rollout.
 */
export function isMissingThread(error: unknown): boolean {
  if (!(error instanceof ThreadStoreError)) return false;
  if (error.code === 'ThreadNotFound') return true;
  return (
    error.code === 'InvalidRequest' &&
    /^(no (archived )?rollout found|failed to locate|thread \S+ is archived)/.test(error.detail)
  );
}
