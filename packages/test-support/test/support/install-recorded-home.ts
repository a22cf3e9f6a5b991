/**
 * Installs a recorded home the way the fixtures README says (copy the payload, point
 * `threads.rollout_path` at the copy, restore mtimes last) plus the config.toml it was recorded
 * with, its model URL pointed at a closed port: reading threads never calls the model.
 */
import { copyFileSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { type RecordedManifest, readRecordedManifest } from './verify-recorded-home.js';

export function installRecordedHome(source: string, home: string): RecordedManifest {
  const manifest = readRecordedManifest(source);
  for (const rel of Object.keys(manifest.files)) {
    mkdirSync(dirname(join(home, rel)), { recursive: true });
    copyFileSync(join(source, rel), join(home, rel));
  }
  const db = new Database(join(home, 'state_5.sqlite'), { fileMustExist: true });
  try {
    db.prepare(
      `UPDATE threads SET rollout_path = ? || substr(rollout_path, length(?) + 1)
        WHERE rollout_path LIKE ? || '/%'`,
    ).run(home, manifest.codexHome, manifest.codexHome);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const config = String(manifest.configToml ?? '');
  writeFileSync(join(home, 'config.toml'), config.replaceAll('{port}', '9'));
  for (const [rel, ms] of Object.entries(manifest.mtimes)) {
    const seconds = ms / 1000 + 5e-7;
    if (existsSync(join(home, rel))) utimesSync(join(home, rel), seconds, seconds);
  }
  return manifest;
}
