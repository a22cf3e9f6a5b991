/**
 * Loaded-thread status (spec manager-appserver §1.5): the runtime facts the manager keeps for
 * each loaded thread, and the wire-shaped status derived from them.
 */

export type ThreadActiveFlag = 'waitingOnApproval' | 'waitingOnUserInput';

/** The derived status, shaped like the wire union (`type` tag). */
export type ThreadStatus =
  | { readonly type: 'notLoaded' }
  | { readonly type: 'idle' }
  | { readonly type: 'systemError' }
  | { readonly type: 'active'; readonly activeFlags: readonly ThreadActiveFlag[] };

/** What the manager knows about a loaded thread's runtime. */
export interface RuntimeFacts {
  running: boolean;
  pendingPermissionRequests: number;
  pendingUserInputRequests: number;
  hasSystemError: boolean;
}

export const NOT_LOADED: ThreadStatus = Object.freeze({ type: 'notLoaded' });
export const IDLE: ThreadStatus = Object.freeze({ type: 'idle' });

export function initialRuntimeFacts(): RuntimeFacts {
  return {
    running: false,
    pendingPermissionRequests: 0,
    pendingUserInputRequests: 0,
    hasSystemError: false,
  };
}

/** Derives the status of a loaded thread; `undefined` facts mean "not loaded". */
export function deriveThreadStatus(facts: RuntimeFacts | undefined): ThreadStatus {
  if (facts === undefined) return NOT_LOADED;
  const flags: ThreadActiveFlag[] = [];
  if (facts.pendingPermissionRequests > 0) flags.push('waitingOnApproval');
  if (facts.pendingUserInputRequests > 0) flags.push('waitingOnUserInput');
  if (facts.running || flags.length > 0) return { type: 'active', activeFlags: flags };
  if (facts.hasSystemError) return { type: 'systemError' };
  return IDLE;
}

/** Whether the thread counts as active for idle unload (running or waiting on the client). */
export function isActive(facts: RuntimeFacts): boolean {
  return facts.running || facts.pendingPermissionRequests > 0 || facts.pendingUserInputRequests > 0;
}

export function sameStatus(a: ThreadStatus, b: ThreadStatus): boolean {
  if (a.type !== b.type) return false;
  if (a.type !== 'active' || b.type !== 'active') return true;
  return (
    a.activeFlags.length === b.activeFlags.length &&
    a.activeFlags.every((flag, index) => b.activeFlags[index] === flag)
  );
}
