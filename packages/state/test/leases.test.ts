import { spawn, spawnSync } from 'node:child_process';
import { makeTempDir } from '@skein/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimLease,
  currentLeaseOwner,
  heartbeatLease,
  isLeaseOwnerDead,
  type LeaseOwner,
  processStartToken,
  readLease,
  releaseLease,
  StateRuntime,
} from '../src/index.js';

let runtime: StateRuntime;
beforeEach(async () => {
  runtime = await StateRuntime.open({ sqliteHome: makeTempDir() });
});
afterEach(async () => {
  await runtime.close();
});

/** A pid that existed and has exited (and been reaped). */
function deadPid(): { pid: number; token: string } {
  const child = spawnSync(process.execPath, [
    '-e',
    'process.stdout.write(String(process.pid) + " " + require("fs").readFileSync("/proc/self/stat","utf8"))',
  ]);
  const [pid] = String(child.stdout).split(' ');
  return { pid: Number(pid), token: 'boot:123' };
}

describe('leases', () => {
  it('claims, blocks a second owner, heartbeats and releases', async () => {
    const a = currentLeaseOwner();
    const b = currentLeaseOwner();
    const now = 1_000_000;
    expect(
      (await claimLease(runtime.leases, { name: 'x', owner: a, durationMs: 1000, nowMs: now }))
        .claimed,
    ).toBe(true);
    const blocked = await claimLease(runtime.leases, {
      name: 'x',
      owner: b,
      durationMs: 1000,
      nowMs: now + 10,
    });
    expect(blocked).toMatchObject({ claimed: false, holder: { owner: { id: a.id } } });
    expect(await heartbeatLease(runtime.leases, 'x', a.id, 1000, now + 900)).toBe(true);
    expect(
      (
        await claimLease(runtime.leases, {
          name: 'x',
          owner: b,
          durationMs: 1000,
          nowMs: now + 1500,
        })
      ).claimed,
    ).toBe(false);
    expect(await heartbeatLease(runtime.leases, 'x', b.id, 1000, now + 1500)).toBe(false);
    expect(await releaseLease(runtime.leases, 'x', b.id)).toBe(false);
    expect(await releaseLease(runtime.leases, 'x', a.id)).toBe(true);
    expect(
      (
        await claimLease(runtime.leases, {
          name: 'x',
          owner: b,
          durationMs: 1000,
          nowMs: now + 1600,
        })
      ).claimed,
    ).toBe(true);
  });

  it('steals an expired lease from a live owner, and the old owner learns it lost it', async () => {
    const a = currentLeaseOwner();
    const b = currentLeaseOwner();
    await claimLease(runtime.leases, { name: 'x', owner: a, durationMs: 1000, nowMs: 0 });
    const stolen = await claimLease(runtime.leases, {
      name: 'x',
      owner: b,
      durationMs: 1000,
      nowMs: 1000,
    });
    expect(stolen).toMatchObject({ claimed: true, stolenFrom: { owner: { id: a.id } } });
    expect(await heartbeatLease(runtime.leases, 'x', a.id, 1000, 1001)).toBe(false);
  });

  it('reclaims at once a lease whose owner process is gone', async () => {
    const dead = deadPid();
    const ghost: LeaseOwner = {
      id: 'ghost',
      host: currentLeaseOwner().host,
      pid: dead.pid,
      startToken: dead.token,
    };
    expect(isLeaseOwnerDead(ghost)).toBe(true);
    const now = Date.now();
    await claimLease(runtime.leases, {
      name: 'x',
      owner: ghost,
      durationMs: 3_600_000,
      nowMs: now,
    });
    const me = currentLeaseOwner();
    const claim = await claimLease(runtime.leases, {
      name: 'x',
      owner: me,
      durationMs: 1000,
      nowMs: now + 1,
    });
    expect(claim).toMatchObject({ claimed: true, stolenFrom: { owner: { id: 'ghost' } } });
    expect((await readLease(runtime.leases, 'x'))?.owner.id).toBe(me.id);
  });

  it('tells a reused pid (different start token) from the live owner', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], {
      stdio: 'ignore',
    });
    try {
      const pid = child.pid!;
      const token = processStartToken(pid);
      expect(token).not.toBeNull();
      const host = currentLeaseOwner().host;
      expect(isLeaseOwnerDead({ host, pid, startToken: token! })).toBe(false);
      expect(isLeaseOwnerDead({ host, pid, startToken: `${token}0` })).toBe(true);
      expect(
        isLeaseOwnerDead({ host: 'some-other-host', pid: deadPid().pid, startToken: 'x' }),
      ).toBe(false);
      const live: LeaseOwner = { id: 'live', host, pid, startToken: token! };
      await claimLease(runtime.leases, { name: 'x', owner: live, durationMs: 60_000 });
      expect(
        (
          await claimLease(runtime.leases, {
            name: 'x',
            owner: currentLeaseOwner(),
            durationMs: 1000,
          })
        ).claimed,
      ).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
