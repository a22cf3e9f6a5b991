/**
 * The homes `pnpm record-homes` committed: their manifests must be true of their files.
 */
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/paths.js';
import { makeTempDir, removeTempDir } from '../src/temp.js';
import { missingCoverage } from './support/coverage.js';
import { readRecordedManifest, verifyRecordedHome } from './support/verify-recorded-home.js';

const recorded = join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
const names = existsSync(recorded)
  ? readdirSync(recorded, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
  : [];

describe('recorded homes', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) removeTempDir(dir);
  });

  it('are there: one by 0.169.0, one by 0.131.0 and one by 0.131.0 then 0.169.0', () => {
    expect(names).toEqual(['codex-0.131.0', 'codex-0.169.0', 'mixed-0.131.0-0.169.0']);
  });

  for (const name of names) {
    it(`${name}: MANIFEST.json matches the rollouts, the databases and the file list`, () => {
      const copy = makeTempDir(`skein-${name}-`);
      temps.push(copy);
      cpSync(join(recorded, name, 'home-a'), copy, { recursive: true });
      expect(verifyRecordedHome(copy)).toEqual([]);
      expect(missingCoverage(readRecordedManifest(copy))).toEqual([]);
    });
  }

  it('the mixed home was migrated by the newer Codex and keeps the older threads legacy', () => {
    const manifest = readRecordedManifest(join(recorded, 'mixed-0.131.0-0.169.0', 'home-a'));
    expect(manifest.codexVersions).toEqual(['0.131.0', '0.169.0']);
    const byVersion = (version: string) =>
      manifest.threads.filter((thread) => thread.persisted && thread.createdBy === version);
    expect(byVersion('0.131.0').every((thread) => thread.historyMode === 'legacy')).toBe(true);
    expect(byVersion('0.169.0').some((thread) => thread.historyMode === 'paginated')).toBe(true);
  });
});
