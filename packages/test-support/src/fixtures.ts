import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import * as z from 'zod';
import { fixturesDir } from './paths.js';
import { makeTempDir } from './temp.js';

/**
 * The two homes that tell the same story (README in fixtures/), written by codex 0.169.0 and
 * 0.131.0: tests that read roles and probes from the manifest iterate over these.
 */
export const FIXTURE_NAMES = ['codex-0.169', 'codex-0.131'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/**
 * Every fixture folder that holds a home (`<name>/home-a/MANIFEST.json`): the two above and
 * any added later (recorded homes), sorted. The functions below take any of these names.
 */
export function listFixtureHomes(): string[] {
  return readdirSync(fixturesDir(), { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && existsSync(join(fixtureHomeDir(entry.name), 'MANIFEST.json')),
    )
    .map((entry) => entry.name)
    .sort();
}

/** The stored (read-only by convention) home of fixture `name`; install a copy to use it. */
export function fixtureHomeDir(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`bad fixture name: ${name}`);
  return join(fixturesDir(), name, 'home-a');
}

const gitInfoSchema = z
  .object({
    sha: z.string().nullish(),
    branch: z.string().nullish(),
    originUrl: z.string().nullish(),
  })
  .passthrough();

const manifestThreadSchema = z
  .object({
    key: z.string(),
    id: z.string(),
    cwd: z.string(),
    name: z.string().nullable(),
    archived: z.boolean(),
    persisted: z.boolean(),
    ephemeral: z.boolean(),
    preview: z.string().nullable(),
    turnCount: z.number(),
    turnIds: z.array(z.string()),
    userMessages: z.array(z.string()),
    agentMessages: z.array(z.string()),
    forkedFromId: z.string().nullable(),
    parentThreadId: z.string().nullable(),
    agentNickname: z.string().nullable(),
    gitInfo: gitInfoSchema.nullable(),
    actions: z.array(z.unknown()),
    observed: z.record(z.string(), z.unknown()).nullable(),
  })
  .passthrough();

const manifestSchema = z
  .object({
    codexVersion: z.string(),
    rolloutFormat: z.string(),
    codexHome: z.string(),
    projects: z.unknown(),
    threads: z.array(manifestThreadSchema),
    roles: z.record(z.string(), z.unknown()),
    probes: z.unknown(),
    files: z.record(z.string(), z.object({ size: z.number(), sha256: z.string() }).passthrough()),
    mtimes: z.record(z.string(), z.number()),
  })
  .passthrough();

export type FixtureManifest = z.infer<typeof manifestSchema>;
export type ManifestThread = z.infer<typeof manifestThreadSchema>;

export function readFixtureManifest(name: string): FixtureManifest {
  const path = join(fixtureHomeDir(name), 'MANIFEST.json');
  if (!existsSync(path)) {
    throw new Error(
      `no fixture home ${name}: ${path} does not exist (have: ${listFixtureHomes().join(', ')})`,
    );
  }
  return manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** Sets every payload file's mtime back to what the manifest recorded (git does not keep them). */
export function restoreMtimes(home: string, manifest: FixtureManifest): void {
  for (const [rel, ms] of Object.entries(manifest.mtimes)) {
    const path = join(home, rel);
    // Half a microsecond past the millisecond, so float rounding never lands a file 1 ms early.
    const seconds = ms / 1000 + 5e-7;
    if (existsSync(path)) utimesSync(path, seconds, seconds);
  }
}

/**
 * Installs a fixture Codex home into a fresh temp dir as the fixtures README says: copy the
 * payload, point `threads.rollout_path` at the new home, restore mtimes last.
 */
export function installFixtureHome(
  name: string,
  target: string = makeTempDir(`skein-${name}-`),
): { home: string; manifest: FixtureManifest } {
  const source = fixtureHomeDir(name);
  const manifest = readFixtureManifest(name);
  for (const rel of Object.keys(manifest.files)) {
    const to = join(target, rel);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(source, rel), to);
  }
  const stateDb = join(target, 'state_5.sqlite');
  if (existsSync(stateDb)) {
    const db = new Database(stateDb);
    try {
      db.prepare(
        `UPDATE threads SET rollout_path = ? || substr(rollout_path, length(?) + 1)
          WHERE rollout_path LIKE ? || '/%'`,
      ).run(target, manifest.codexHome, manifest.codexHome);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
  }
  restoreMtimes(target, manifest);
  return { home: target, manifest };
}
