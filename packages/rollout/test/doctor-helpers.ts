import { createHash } from 'node:crypto';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  FIXTURE_NAMES,
  type FixtureName,
  installFixtureHome,
  makeTempDir,
  repoRoot,
} from '@skein/test-support';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { installRecordedHome } from '../../test-support/test/support/install-recorded-home.js';
import { diagnoseHome, type HomeFinding, repairHome } from '../src/index.js';

/** The recorded homes (real Codex binaries) under packages/test-support/fixtures/recorded. */
export const RECORDED_HOMES = readdirSync(
  join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded'),
  { withFileTypes: true },
)
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

export type HomeName = FixtureName | `recorded:${string}`;

/** Every home a doctor must find clean: the story fixtures and the recorded homes. */
export const ALL_HOMES: HomeName[] = [
  ...FIXTURE_NAMES,
  ...RECORDED_HOMES.map((name) => `recorded:${name}` as const),
];

/** Installs a home into a fresh temp dir (rows pointed at the copy, mtimes restored). */
export function installHome(name: HomeName): string {
  if (!name.startsWith('recorded:')) return installFixtureHome(name as FixtureName).home;
  const recorded = name.slice('recorded:'.length);
  const home = makeTempDir(`skein-doctor-${recorded}-`);
  installRecordedHome(
    join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded', recorded, 'home-a'),
    home,
  );
  return home;
}

/** Every rollout under `home` (relative path → sha256): "repair never changed a rollout". */
export function rolloutBytes(home: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/^rollout-.*\.jsonl(\.zst)?$/.test(entry.name)) {
        out.set(
          relative(home, full),
          createHash('sha256').update(readFileSync(full)).digest('hex'),
        );
      }
    }
  };
  walk(join(home, 'sessions'));
  walk(join(home, 'archived_sessions'));
  return out;
}

/** A compact view of findings for assertions and failure messages. */
export function brief(findings: readonly HomeFinding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.kind} ${f.subject}: ${f.message}`);
}

export interface RecordedThread {
  key: string;
  id: string;
  /** Absolute rollout path in the installed home, or null for a thread with none. */
  file: string | null;
}

/** Installs a recorded home and returns its threads by scenario key (P1, L1, F1, ...). */
export function recordedHome(name = 'codex-0.169.0'): {
  home: string;
  thread: (key: string) => RecordedThread;
} {
  const home = makeTempDir(`skein-doctor-${name}-`);
  const manifest = installRecordedHome(
    join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded', name, 'home-a'),
    home,
  );
  const threads = new Map<string, RecordedThread>();
  for (const t of manifest.threads) {
    const file = (t.observed as { rolloutFile?: string } | null)?.rolloutFile;
    threads.set(t.key, { key: t.key, id: t.id, file: file ? join(home, file) : null });
  }
  return {
    home,
    thread: (key) => {
      const found = threads.get(key);
      if (!found) throw new Error(`${name} has no thread ${key}`);
      return found;
    },
  };
}

/** Runs SQL on one of the home's DBs, as another process would (for manipulations). */
export function sql(home: string, file: string, statement: string, ...params: unknown[]): void {
  const db = new Database(join(home, file));
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

/** Reads rows from one of the home's DBs. */
export function query<T>(home: string, file: string, statement: string, ...params: unknown[]): T[] {
  const db = new Database(join(home, file), { readonly: true });
  try {
    return db.prepare(statement).all(...params) as T[];
  } finally {
    db.close();
  }
}

export interface Expected {
  kind: string;
  subject?: string;
}

/**
 * The cycle every drift test goes through: the drift is reported, `repairHome` repairs it
 * without changing a rollout's bytes, and the home then diagnoses clean (`remaining` lists what
 * may stay, e.g. what nothing but the source can repair).
 */
export async function expectRepaired(
  home: string,
  expected: readonly Expected[],
  remaining: readonly Expected[] = [],
): Promise<void> {
  const before = await diagnoseHome({ codexHome: home });
  for (const e of expected) {
    expect(brief(before.findings)).toEqual(
      expect.arrayContaining([expect.stringMatching(pattern(e))]),
    );
  }
  const bytes = rolloutBytes(home);
  const repair = await repairHome({ codexHome: home });
  for (const e of expected) {
    const found = repair.findings.filter(
      (f) => f.kind === e.kind && (e.subject === undefined || f.subject === e.subject),
    );
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) expect({ ...f, repaired: f.repaired }).toMatchObject({ repaired: true });
  }
  const left = brief(repair.after.findings);
  expect(left.length, left.join('\n')).toBe(remaining.length);
  for (const e of remaining) {
    expect(left).toEqual(expect.arrayContaining([expect.stringMatching(pattern(e))]));
  }
  expect(rolloutBytes(home)).toEqual(bytes);
  expect(brief((await diagnoseHome({ codexHome: home })).findings)).toEqual(left);
}

function pattern(e: Expected): RegExp {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^\\w+ ${quote(e.kind)} ${e.subject === undefined ? '' : `${quote(e.subject)}:`}`,
  );
}
