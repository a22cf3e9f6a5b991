import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FIXTURE_NAMES,
  fixtureHomeDir,
  installFixtureHome,
  listFixtureHomes,
  readFixtureManifest,
  removeTempDir,
} from '../src/index.js';

describe('installFixtureHome', () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const home of homes.splice(0)) removeTempDir(home);
  });

  for (const name of FIXTURE_NAMES) {
    it(`installs ${name} with paths rewritten and mtimes restored`, () => {
      const { home, manifest } = installFixtureHome(name);
      homes.push(home);
      for (const [rel, ms] of Object.entries(manifest.mtimes)) {
        expect(Math.floor(statSync(join(home, rel)).mtimeMs), rel).toBe(ms);
      }
      const db = new Database(join(home, 'state_5.sqlite'), { readonly: true });
      const rows = db.prepare('SELECT rollout_path FROM threads').all() as {
        rollout_path: string;
      }[];
      db.close();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.rollout_path.startsWith(`${home}/`)).toBe(true);
        expect(existsSync(row.rollout_path)).toBe(true);
      }
    });
  }
});

describe('fixture lookup', () => {
  it('finds every home under fixtures/ (the two story homes among them) and names them on a miss', () => {
    const homes = listFixtureHomes();
    expect(homes).toEqual(expect.arrayContaining([...FIXTURE_NAMES]));
    for (const name of homes)
      expect(existsSync(join(fixtureHomeDir(name), 'MANIFEST.json'))).toBe(true);
    expect(() => readFixtureManifest('no-such-fixture')).toThrow(
      /no fixture home no-such-fixture.*have: .*codex-0\.169/,
    );
    expect(() => fixtureHomeDir('../escape')).toThrow(/bad fixture name/);
  });
});
