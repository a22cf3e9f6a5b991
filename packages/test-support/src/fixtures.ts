import { copyFileSync, existsSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { fixturesDir } from './paths.js';
import { makeTempDir } from './temp.js';

export const FIXTURE_NAMES = ['codex-0.169', 'codex-0.131'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

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

export function readFixtureManifest(name: FixtureName): FixtureManifest {
  const path = join(fixturesDir(), name, 'home-a', 'MANIFEST.json');
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
  name: FixtureName,
  target: string = makeTempDir(`skein-${name}-`),
): { home: string; manifest: FixtureManifest } {
  const source = join(fixturesDir(), name, 'home-a');
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
