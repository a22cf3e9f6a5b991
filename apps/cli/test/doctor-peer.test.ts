import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initStateDb } from '@skein/rollout';
import { FIXTURE_NAMES, makeTempDir, repoRoot } from '@skein/test-support';
import { LocalThreadStore, type ThreadId } from '@skein/thread-store';
import { describe, expect, it } from 'vitest';
import { installRecordedHome } from '../../../packages/test-support/test/support/install-recorded-home.js';
import { fixture, rolloutSnapshot, skein, skeinJson, snapshotFiles } from './helpers.js';

/**
 * Doctor as a peer on Codex's own DB: a home that only Codex and Skein's own commands touched
 * has nothing to report — before Skein touches it, and after a sequence of Skein mutations
 * (rename, archive, unarchive, delete, git metadata set / partial / clear) in both history
 * modes.
 */

const RECORDED = join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
const HOMES = [
  ...FIXTURE_NAMES,
  ...readdirSync(RECORDED, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `recorded:${entry.name}`)
    .sort(),
];

function install(name: string): string {
  if (!name.startsWith('recorded:')) return fixture(name as (typeof FIXTURE_NAMES)[number]).home;
  const home = makeTempDir('skein-doctor-peer-');
  installRecordedHome(join(RECORDED, name.slice('recorded:'.length), 'home-a'), home);
  return home;
}

interface Listed {
  id: ThreadId;
  historyMode: string;
  parentThreadId: string | null;
  forkedFromId: string | null;
  name: string | null;
  path: string | null;
  source: unknown;
}

/**
 * The thread that spawned a sub-agent, as its source names it: a DB-only listing answers
 * `parentThreadId: null` for every row (as Codex 0.169 does), the source keeps the edge.
 */
function spawnParentOf(t: Listed): string | null {
  const source = t.source as { subAgent?: { thread_spawn?: { parent_thread_id?: string } } };
  return t.parentThreadId ?? source?.subAgent?.thread_spawn?.parent_thread_id ?? null;
}

interface DoctorJson {
  ok: boolean;
  findings: { severity: string; kind: string; subject: string; message: string }[];
}

async function doctorFindings(home: string): Promise<string[]> {
  const run = await skein(['doctor', '--json'], { home });
  const report = JSON.parse(run.stdout) as DoctorJson;
  const findings = report.findings.map((f) => `${f.severity} ${f.kind} ${f.subject}: ${f.message}`);
  expect({ code: run.code, findings }).toEqual({ code: 0, findings: [] });
  return findings;
}

async function listAll(home: string, archived = false): Promise<Listed[]> {
  const args = ['list', '--all', '--source', 'any', '--provider', 'any'];
  return skeinJson<Listed[]>(archived ? [...args, '--archived'] : args, { home });
}

async function ok(home: string, args: string[]): Promise<void> {
  const run = await skein(args, { home });
  expect({ args, code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
}

/** Git metadata set, partially updated, then cleared through the local store. */
async function gitSequence(home: string, ids: readonly ThreadId[]): Promise<void> {
  const stateDb = await initStateDb({ codexHome: home });
  const store = new LocalThreadStore({ codexHome: home, warn: () => {} }, stateDb);
  try {
    for (const threadId of ids) {
      const update = (gitInfo: Record<string, string | null>) =>
        store.updateThreadMetadata({ threadId, patch: { gitInfo }, includeArchived: true });
      await update({ sha: 'abc123', branch: 'feature/doctor', originUrl: 'https://x.test/r' });
      await update({ branch: 'feature/doctor-2' });
      await update({ sha: null, branch: null, originUrl: null });
      await update({ branch: 'kept' });
    }
  } finally {
    await store.close();
    await stateDb.close();
  }
}

describe('doctor on homes only Codex and Skein touched', () => {
  it.each(HOMES)('%s: clean before and after Skein’s mutations', async (name) => {
    const home = install(name);
    await doctorFindings(home);
    const rollouts = rolloutSnapshot(home).size;

    const active = await listAll(home);
    const byMode = (mode: string) =>
      active.filter((t) => t.historyMode === mode && spawnParentOf(t) === null);
    const referenced = new Set(
      [...active, ...(await listAll(home, true))].flatMap((t) => [
        t.forkedFromId,
        spawnParentOf(t),
      ]),
    );
    const paginated = byMode('paginated');
    const legacy = byMode('legacy');
    const renamed = [paginated[0], legacy[0]].filter((t) => t !== undefined);
    expect(renamed.length).toBeGreaterThan(0);
    for (const t of renamed) await ok(home, ['rename', t.id, `Renamed by Skein ${t.historyMode}`]);

    // A parent with sub-agents archived and unarchived (the cascade), another kept archived.
    const parent = active.find((t) => active.some((c) => spawnParentOf(c) === t.id));
    const archivedToo = [...paginated, ...legacy].find(
      (t) => t.id !== parent?.id && !renamed.includes(t) && !referenced.has(t.id),
    );
    if (parent) {
      await ok(home, ['archive', parent.id]);
      await ok(home, ['unarchive', parent.id]);
    }
    if (archivedToo) await ok(home, ['archive', archivedToo.id]);

    // Delete a thread nothing forks from (Codex refuses to delete a paginated fork source).
    const deletable = [...active]
      .reverse()
      .find(
        (t) =>
          !referenced.has(t.id) &&
          t.id !== parent?.id &&
          t.id !== archivedToo?.id &&
          !renamed.includes(t),
      );
    if (deletable) await ok(home, ['delete', deletable.id, '--yes']);

    await gitSequence(
      home,
      renamed.map((t) => t.id),
    );

    await doctorFindings(home);
    // The sequence did happen: each step left its mark.
    expect([parent, archivedToo, deletable].every((t) => t !== undefined)).toBe(true);
    const after = await listAll(home);
    expect(after.some((t) => t.id === parent?.id)).toBe(true);
    expect(after.some((t) => t.id === archivedToo?.id || t.id === deletable?.id)).toBe(false);
    expect((await listAll(home, true)).some((t) => t.id === archivedToo?.id)).toBe(true);
    expect(rolloutSnapshot(home).size).toBeLessThan(rollouts);
    const names = new Map((await listAll(home)).map((t) => [t.id, t.name]));
    for (const t of renamed) expect(names.get(t.id)).toBe(`Renamed by Skein ${t.historyMode}`);
  });
});

describe('doctor exit codes', () => {
  it('an emptied rollout is a problem --repair cannot fix: exit 5 before and after', async () => {
    const home = install('recorded:codex-0.169.0');
    const victim = (await listAll(home)).find((t) => t.historyMode === 'paginated')!;
    const path = victim.path!;
    writeFileSync(path, '');
    const check = await skein(['doctor'], { home });
    expect(check.code).toBe(5);
    expect(check.stdout).toMatch(/✗ empty-file/);
    const repair = await skein(['doctor', '--repair', '--json'], { home });
    expect(repair.code).toBe(5);
    const report = JSON.parse(repair.stdout) as DoctorJson & { remainingProblems: number };
    expect(report).toMatchObject({ ok: false, remainingProblems: 1 });
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('a copied home: rows outside it are found and re-pointed; the original is untouched', async () => {
    const original = install('recorded:mixed-0.131.0-0.169.0');
    const copy = join(makeTempDir('skein-doctor-copy-'), 'home');
    cpSync(original, copy, { recursive: true, preserveTimestamps: true });
    const before = snapshotFiles(original);
    const check = await skein(['doctor', '--json'], { home: copy });
    expect(check.code).toBe(5);
    const kinds = new Set((JSON.parse(check.stdout) as DoctorJson).findings.map((f) => f.kind));
    expect([...kinds]).toEqual(['row-outside-home']);
    const repair = await skein(['doctor', '--repair'], { home: copy });
    expect(repair.code).toBe(0);
    expect(repair.stdout).toMatch(/no problems remain/);
    await doctorFindings(copy);
    expect(snapshotFiles(original)).toEqual(before);
  });
});
