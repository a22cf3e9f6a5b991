import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { RolloutError } from './errors.js';

/*
 * Advisory `flock(2)` locks, the kind Codex takes on its lock files (`session_index.jsonl.lock`
 * around name-index writes, `thread-writer-locks/<thread>.lock` while a thread's writer is
 * open). Node has no flock(2), and an fcntl lock would not exclude Codex (on Linux the two
 * kinds ignore each other). So one small Perl process per Skein process (Perl ships with every
 * Debian and macOS install; `perl-base` is essential on Debian) holds the locks on its own
 * descriptors and takes numbered requests over a pipe: `lock <key> <wait-ms> <path>`,
 * `unlock <key>`. A request costs a pipe round trip (well under a millisecond), not a fork.
 * When this process dies the helper reads end of input and exits, and every lock it held goes
 * with it. Without Perl, locking is unavailable: callers are told once and go on unlocked.
 */

const HELPER_SCRIPT = String.raw`
use strict; use warnings; use Fcntl qw(:flock); use Time::HiRes qw(sleep time);
$| = 1; my %held; print "ready\n";
while (defined(my $line = <STDIN>)) {
  chomp $line;
  my ($cmd, $key, $wait, $path) = split(/ /, $line, 4);
  if ($cmd eq 'lock') {
    my $fh;
    if (!open($fh, '>>', $path)) { print "66\n"; next; }
    my $deadline = time + $wait / 1000;
    my $ok = flock($fh, LOCK_EX | LOCK_NB);
    while (!$ok && time < $deadline) { sleep 0.01; $ok = flock($fh, LOCK_EX | LOCK_NB); }
    if ($ok) { $held{$key} = $fh; print "0\n"; } else { close($fh); print "75\n"; }
  } elsif ($cmd eq 'unlock') {
    my $fh = delete $held{$key}; close($fh) if $fh; print "0\n";
  } else { print "64\n"; }
}
`;

/** Answer for "still held by someone else when the wait ran out". */
const HELD = '75';
const CANNOT_OPEN = '66';

type HelperProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** A lock this process holds; release it exactly once (a second release is a no-op). */
export interface HeldFileLock {
  readonly path: string;
  release(): Promise<void>;
}

/** How long `lockFile` waits for another holder (0: try once). */
export interface FileLockOptions {
  /** How long to wait for another holder (0 = try once). */
  waitMs: number;
}

/**
 * The outcome of `lockFile`: held (release it), busy (another holder, after waiting), or
 * unavailable (no flock on this system).
 */
export type FileLockResult =
  | { locked: true; lock: HeldFileLock }
  /** `held`: another process (or another holder in this one) has it. */
  | { locked: false; reason: 'held' }
  /** Locking cannot work here (no Perl): the caller goes on unlocked. */
  | { locked: false; reason: 'unavailable' };

class LockHelper {
  private readonly waiters: Array<(answer: string | null) => void> = [];
  private pending = '';
  private stderr = '';
  private exited = false;
  private inFlight = 0;

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

  get lastError(): string {
    return this.stderr.trim();
  }

  /** One request, one answer line; requests are answered in order. */
  request(line: string): Promise<string | null> {
    if (this.exited) return Promise.resolve(null);
    this.inFlight += 1;
    this.busy();
    const answer = new Promise<string | null>((resolve) => this.waiters.push(resolve));
    this.child.stdin.write(`${line}\n`);
    return answer.finally(() => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle();
    });
  }

  /** The first line (`ready`), or null when the helper could not start. */
  started(): Promise<string | null> {
    this.busy();
    return new Promise<string | null>((resolve) => this.waiters.push(resolve)).finally(() =>
      this.idle(),
    );
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

let helper: Promise<LockHelper | null> | null = null;
let warnedUnavailable = false;
let nextKey = 1;
/** Paths this process holds (flock does not exclude two descriptors of one process here). */
const heldHere = new Set<string>();

async function startHelper(): Promise<LockHelper | null> {
  let child: HelperProcess;
  try {
    child = spawn('perl', ['-e', HELPER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch {
    return null;
  }
  const candidate = new LockHelper(child);
  const spawnFailed = new Promise<null>((resolve) => child.once('error', () => resolve(null)));
  const first = await Promise.race([candidate.started(), spawnFailed]);
  return first === 'ready' ? candidate : null;
}

async function lockHelper(): Promise<LockHelper | null> {
  const current = helper === null ? null : await helper;
  if (current?.alive) return current;
  helper = startHelper();
  return helper;
}

/**
 * Starts the lock helper now unless it runs already, so that the first lock (a thread's
 * writer opening, a rename, an archive) does not wait for Perl to start: ~20 ms of a first
 * `thread/start` or rename, against ~1 ms for every later lock. Never throws: without Perl the
 * first lock finds out as before.
 */
export function prestartLockHelper(): void {
  void lockHelper().catch(() => undefined);
}

/** Says once per process that locks cannot be taken here (and why it matters). */
export function warnLocksUnavailable(warn: (message: string) => void = console.warn): void {
  if (warnedUnavailable) return;
  warnedUnavailable = true;
  warn(
    'skein: file locks are unavailable (no perl to take flock locks): writes to session_index.jsonl ' +
      'and thread writers are not coordinated with other Codex or Skein processes',
  );
}

/**
 * Takes an exclusive `flock` on `path` (created if missing), waiting up to `waitMs` for
 * another holder. A path this process already holds counts as held.
 */
export async function lockFile(path: string, options: FileLockOptions): Promise<FileLockResult> {
  const absolute = resolvePath(path);
  if (absolute.includes('\n')) {
    throw new RolloutError('Io', `cannot lock ${JSON.stringify(absolute)}: newline in the path`);
  }
  if (heldHere.has(absolute)) return { locked: false, reason: 'held' };
  const service = await lockHelper();
  if (service === null) return { locked: false, reason: 'unavailable' };
  const key = `k${nextKey++}`;
  heldHere.add(absolute);
  const answer = await service.request(
    `lock ${key} ${Math.max(0, Math.trunc(options.waitMs))} ${absolute}`,
  );
  if (answer === '0') {
    let released = false;
    return {
      locked: true,
      lock: {
        path: absolute,
        async release() {
          if (released) return;
          released = true;
          heldHere.delete(absolute);
          // A dead helper took the lock with it.
          await service.request(`unlock ${key}`);
        },
      },
    };
  }
  heldHere.delete(absolute);
  if (answer === HELD) return { locked: false, reason: 'held' };
  const why =
    answer === null
      ? `the lock helper exited${service.lastError ? `: ${service.lastError}` : ''}`
      : answer === CANNOT_OPEN
        ? 'cannot open the lock file'
        : `the lock helper answered ${answer}`;
  throw new RolloutError('Io', `cannot take the lock ${absolute}: ${why}`);
}

/**
 * Takes the lock file's directory into account: the lock file is created (with its directory)
 * on first use, as Codex creates `thread-writer-locks/` on first use.
 */
export async function lockFileCreatingDir(
  path: string,
  options: FileLockOptions,
): Promise<FileLockResult> {
  await mkdir(dirname(path), { recursive: true });
  return lockFile(path, options);
}
