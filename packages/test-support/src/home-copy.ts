import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir } from './temp.js';

/** Files beside a recorded home that are not part of it. */
const NOT_HOME = new Set(['MANIFEST.json', 'transcript.jsonl']);

function listFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) listFiles(path, out);
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

/** The home prefix the state DB's rollout paths were written under (before `/sessions/`). */
function recordedHomeOf(db: Database.Database): string | null {
  const row = db
    .prepare(
      `SELECT rollout_path AS path FROM threads
        WHERE rollout_path LIKE '%/sessions/%' OR rollout_path LIKE '%/archived_sessions/%' LIMIT 1`,
    )
    .get() as { path: string } | undefined;
  const match = row === undefined ? null : /^(.*?)\/(archived_sessions|sessions)\//.exec(row.path);
  return match?.[1] ?? null;
}

/**
 * Copies any Codex home directory (a fixture folder, a recorded home, a user's copy) into a
 * fresh temp dir the way installFixtureHome does: every file except MANIFEST.json and
 * transcript.jsonl, rollout paths in `state_5.sqlite` moved to the new home, modification
 * times kept (from MANIFEST.json `mtimes` when present, else from the source files).
 */
export function installHomeCopy(
  source: string,
  target: string = makeTempDir('skein-home-'),
): string {
  const manifestPath = join(source, 'MANIFEST.json');
  const manifest = existsSync(manifestPath)
    ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        codexHome?: string;
        mtimes?: Record<string, number>;
      })
    : {};
  const mtimes = new Map<string, number>();
  for (const file of listFiles(source)) {
    const rel = relative(source, file);
    if (NOT_HOME.has(rel)) continue;
    const to = join(target, rel);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
    mtimes.set(rel, manifest.mtimes?.[rel] ?? statSync(file).mtimeMs);
  }
  const stateDb = join(target, 'state_5.sqlite');
  if (existsSync(stateDb)) {
    const db = new Database(stateDb);
    try {
      const recorded = manifest.codexHome ?? recordedHomeOf(db);
      if (recorded !== null && recorded !== undefined) {
        db.prepare(
          `UPDATE threads SET rollout_path = ? || substr(rollout_path, length(?) + 1)
            WHERE rollout_path LIKE ? || '/%'`,
        ).run(target, recorded, recorded);
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
  }
  for (const [rel, ms] of mtimes) {
    const seconds = ms / 1000 + 5e-7;
    // A write-ahead log checkpointed into its DB above is gone.
    if (existsSync(join(target, rel))) utimesSync(join(target, rel), seconds, seconds);
  }
  return target;
}
