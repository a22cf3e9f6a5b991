import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a lease: enough to tell, from another process on the same host, whether the holder
 * is still alive. `startToken` pins the process start (boot id + start time in clock ticks on
 * Linux), so a pid reused by an unrelated process is not mistaken for the holder.
 */
export interface LeaseOwner {
  /** Unique per holder instance. */
  id: string;
  host: string;
  pid: number;
  startToken: string;
}

let selfToken: string | undefined;

/** The start token of a process, or null if the OS does not tell (or it is gone). */
export function processStartToken(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the parenthesized command name (which may contain spaces and parentheses).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const startTicks = rest[19];
  if (!startTicks) return null;
  return `${bootId()}:${startTicks}`;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

/** The calling process as a lease owner (a fresh `id` each call). */
export function currentLeaseOwner(): LeaseOwner {
  selfToken ??=
    processStartToken(process.pid) ?? `t${Math.round(Date.now() - process.uptime() * 1000)}`;
  return { id: randomUUID(), host: hostname(), pid: process.pid, startToken: selfToken };
}

/**
 * True only when we can prove the owner is gone: same host, and its pid no longer exists, is a
 * zombie, or now belongs to a process that started at another time. Another host's owner is
 * never judged dead here; its lease runs out by time.
 */
export function isLeaseOwnerDead(owner: Pick<LeaseOwner, 'host' | 'pid' | 'startToken'>): boolean {
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) {
    return (
      selfToken !== undefined && owner.startToken !== selfToken && isLinuxToken(owner.startToken)
    );
  }
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (isZombie(owner.pid)) return true;
  if (!isLinuxToken(owner.startToken)) return false;
  const token = processStartToken(owner.pid);
  return token !== null && token !== owner.startToken;
}

function isLinuxToken(token: string): boolean {
  return !token.startsWith('t');
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}
