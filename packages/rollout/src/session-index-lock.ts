import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { RolloutError } from './errors.js';
import { sessionIndexLockPath } from './layout.js';

/*
 * The lock Codex 0.169 holds around every write of `session_index.jsonl`: `flock(LOCK_EX)` on
 * the 0-byte `session_index.jsonl.lock` (spec rollout-state §1, §4.7). Without it a rewrite
 * (thread deletion drops a thread's lines) can silently drop a name another process appended
 * between the rewrite's read and its rename.
 *
 * Node has no flock(2), and an fcntl-based lock would not exclude Codex (on Linux the two
 * kinds of lock ignore each other). So one small shell per process, started on first use,
 * opens the lock file on its descriptor 9 and runs `flock(1)` on it; the lock stays with that
 * descriptor until the shell closes it. Spawning a fresh `flock` from Node for every write
 * costs a fork of the whole Node process (hundreds of ms on a loaded machine); the shell's
 * fork of `flock` costs about a millisecond. If this process dies, the shell reads end of
 * input and exits, and the lock goes with it. Where there is no `sh` or `flock(1)` (macOS,
 * Windows) writes go unlocked: appends are still single `O_APPEND` writes.
 *
 * Lock requests of one process are served one at a time (the shell has one descriptor), so a
 * holder must not take the lock again inside its own work.
 */

export const DEFAULT_SESSION_INDEX_LOCK_TIMEOUT_MS = 10_000;

export interface SessionIndexLockOptions {
  /** How long to wait for another holder before failing (default 10 s). */
  timeoutMs?: number;
}

/** Runs `work` while holding the session-index lock; fails clearly if it stays held. */
export function withSessionIndexLock<T>(
  codexHome: string,
  work: () => Promise<T>,
  options: SessionIndexLockOptions = {},
): Promise<T> {
  // Absolute: the helper keeps the working directory this process had when it started it.
  const path = resolvePath(sessionIndexLockPath(codexHome));
  const timeoutMs = options.timeoutMs ?? DEFAULT_SESSION_INDEX_LOCK_TIMEOUT_MS;
  return oneAtATime(async () => {
    const helper = await lockHelper();
    if (helper === null) return work();
    await helper.lock(path, timeoutMs);
    try {
      return await work();
    } finally {
      await helper.unlock();
    }
  });
}

let queue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

/** Exit code the shell reports for "still held when the wait ran out". */
const LOCK_TIMEOUT_EXIT = 75;
/** The shell's answer when it cannot open the lock file. */
const CANNOT_OPEN = 66;

// One request per line: `lock <seconds> <path>` or `unlock`; one answer per line (an exit code).
// The open is probed in a subshell first: a failed `exec` redirection would end the shell.
const HELPER_SCRIPT = `
command -v flock >/dev/null 2>&1 || exit 127
echo ready
while IFS= read -r line; do
  case "$line" in
    "lock "*)
      rest=\${line#lock }; seconds=\${rest%% *}; path=\${rest#* }
      if ( : >>"$path" ) 2>/dev/null; then
        exec 9>>"$path"
        flock --exclusive --wait "$seconds" --conflict-exit-code ${LOCK_TIMEOUT_EXIT} 9
        code=$?; [ "$code" = 0 ] || exec 9>&-; echo "$code"
      else
        echo ${CANNOT_OPEN}
      fi ;;
    unlock) exec 9>&-; echo 0 ;;
    *) echo 64 ;;
  esac
done
`;

type HelperProcess = ChildProcessByStdio<Writable, Readable, Readable>;

class LockHelper {
  private readonly waiters: Array<(answer: string | null) => void> = [];
  private pending = '';
  private stderr = '';
  private exited = false;

  constructor(private readonly child: HelperProcess) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.pending += chunk;
      for (let end = this.pending.indexOf('\n'); end >= 0; end = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, end);
        this.pending = this.pending.slice(end + 1);
        this.waiters.shift()?.(line);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-2000);
    });
    // A dead helper is reported through its exit (or, if it never started, the spawn error).
    child.stdin.on('error', () => undefined);
    child.on('error', () => undefined);
    child.once('exit', () => {
      this.exited = true;
      for (const waiter of this.waiters.splice(0)) waiter(null);
    });
    this.idle();
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The first answer: `ready`, or null when the shell exited (no `flock(1)`). */
  async started(): Promise<string | null> {
    this.busy();
    try {
      return await this.next();
    } finally {
      this.idle();
    }
  }

  async lock(path: string, timeoutMs: number): Promise<void> {
    if (path.includes('\n')) {
      throw new RolloutError('Io', `cannot lock ${JSON.stringify(path)}: newline in the path`);
    }
    const seconds = (Math.max(1, timeoutMs) / 1000).toFixed(3);
    const answer = await this.request(`lock ${seconds} ${path}`);
    if (answer === '0') return;
    if (answer === String(LOCK_TIMEOUT_EXIT)) {
      throw new RolloutError(
        'Io',
        `timed out after ${timeoutMs} ms waiting for the session index lock ${path}; ` +
          'another Codex or Skein process may be suspended while holding it',
      );
    }
    const why =
      answer === null
        ? `the lock helper exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`
        : answer === String(CANNOT_OPEN)
          ? 'cannot open the lock file'
          : `flock exited with ${answer}${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
    throw new RolloutError('Io', `cannot take the session index lock ${path}: ${why}`);
  }

  async unlock(): Promise<void> {
    // If the helper is gone, so is its descriptor and the lock with it.
    await this.request('unlock');
  }

  private async request(line: string): Promise<string | null> {
    if (this.exited) return null;
    this.busy();
    try {
      const answer = this.next();
      this.child.stdin.write(`${line}\n`);
      return await answer;
    } finally {
      this.idle();
    }
  }

  private next(): Promise<string | null> {
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  // The helper keeps this process alive only while a request waits for its answer.
  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as Socket).ref();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as Socket).unref();
    (this.child.stderr as unknown as Socket).unref();
    (this.child.stdin as unknown as Socket).unref();
  }
}

let helper: LockHelper | null = null;
let flockUnavailable = false;

async function lockHelper(): Promise<LockHelper | null> {
  if (helper?.alive) return helper;
  if (flockUnavailable) return null;
  let child: HelperProcess;
  try {
    child = spawn('sh', ['-c', HELPER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch {
    flockUnavailable = true;
    return null;
  }
  const candidate = new LockHelper(child);
  const spawnFailed = new Promise<null>((resolve) => child.once('error', () => resolve(null)));
  const first = await Promise.race([candidate.started(), spawnFailed]);
  if (first !== 'ready') {
    flockUnavailable = true;
    return null;
  }
  helper = candidate;
  return helper;
}
