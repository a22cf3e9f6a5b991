import state0131 from './codex-schemas/state_5-0.131.0.json' with { type: 'json' };
import state0169 from './codex-schemas/state_5-0.169.0.json' with { type: 'json' };
import history0169 from './codex-schemas/thread_history_1-0.169.0.json' with { type: 'json' };

/**
 * The SQLite files real Codex binaries create, recorded from the binaries themselves (see
 * `scripts/record-codex-schemas.mjs`; an interop test checks the recording against today's
 * binaries): their `_sqlx_migrations` rows, the schema objects in creation order, and the rows
 * a fresh file holds. Skein identifies a Codex DB by its migration rows and, where it has to
 * create one, replays a recording verbatim — it never writes DDL of its own into these files.
 */
export interface RecordedCodexDb {
  codexVersion: string;
  database: string;
  pragmas: { auto_vacuum: number; page_size: number };
  migrations: { version: number; description: string; checksum: string; success: boolean }[];
  schema: { type: string; name: string; tableName: string; sql: string }[];
  seedRows: Record<string, Record<string, unknown>[]>;
}

/** Codex state DB schemas Skein reads and writes as that Codex version does (oldest first). */
export const KNOWN_STATE_SCHEMAS: readonly RecordedCodexDb[] = [state0131, state0169];
/** Codex history DB (`thread_history_1.sqlite`) schemas. */
export const KNOWN_HISTORY_SCHEMAS: readonly RecordedCodexDb[] = [history0169];

/** Codex's state DB file in a home (`sqlite_home`): `state_5.sqlite`. */
export const CODEX_STATE_DB_FILE = 'state_5.sqlite';
/** Codex 0.169's paginated history DB beside it: `thread_history_1.sqlite`. */
export const CODEX_HISTORY_DB_FILE = 'thread_history_1.sqlite';

/** A `_sqlx_migrations` row as read from a DB. */
export interface MigrationRow {
  version: number;
  checksum: string;
  success: boolean;
}

/**
 * What a DB's migration rows say about who wrote it:
 * - `known`: exactly the set a known Codex version creates (read and write as it does);
 * - `newer`: a known set plus versions no known Codex has (a newer Codex): read only;
 * - `unknown`: anything else (a version between the known ones, a changed checksum, a failed
 *   migration, no migration table): read what can be read, write only the files.
 */
export type SchemaIdentity =
  | { kind: 'known'; codexVersion: string; recorded: RecordedCodexDb }
  | { kind: 'newer'; basedOn: string; unknownVersions: number[] }
  | { kind: 'unknown'; reason: string };

/**
 * Which recorded Codex schema a DB's `_sqlx_migrations` rows are: a known version, newer than one
 * (extra migrations), or unknown.
 */
export function identifySchema(
  rows: readonly MigrationRow[],
  known: readonly RecordedCodexDb[],
): SchemaIdentity {
  if (rows.length === 0) return { kind: 'unknown', reason: 'it has no migration rows' };
  const failed = rows.find((row) => !row.success);
  if (failed) return { kind: 'unknown', reason: `migration ${failed.version} did not succeed` };
  const byVersion = new Map(rows.map((row) => [row.version, row.checksum.toLowerCase()]));
  let best: { recorded: RecordedCodexDb; extra: number[] } | null = null;
  for (const recorded of known) {
    const all = recorded.migrations.every((m) => byVersion.get(m.version) === m.checksum);
    if (!all) continue;
    const mine = new Set(recorded.migrations.map((m) => m.version));
    const extra = rows.map((row) => row.version).filter((v) => !mine.has(v));
    if (best === null || recorded.migrations.length > best.recorded.migrations.length) {
      best = { recorded, extra };
    }
  }
  if (best === null) {
    const newest = known[known.length - 1];
    const changed = newest?.migrations.find(
      (m) => byVersion.has(m.version) && byVersion.get(m.version) !== m.checksum,
    );
    return {
      kind: 'unknown',
      reason: changed
        ? `migration ${changed.version} has a checksum no known Codex wrote`
        : `its ${rows.length} migrations match no known Codex version`,
    };
  }
  if (best.extra.length === 0) {
    return { kind: 'known', codexVersion: best.recorded.codexVersion, recorded: best.recorded };
  }
  const newestKnown = Math.max(...best.recorded.migrations.map((m) => m.version));
  const later = known.find((recorded) => recorded.migrations.length > rows.length);
  if (
    later &&
    best.extra.every((v) =>
      later.migrations.some((m) => m.version === v && byVersion.get(v) === m.checksum),
    )
  ) {
    return {
      kind: 'unknown',
      reason: `it was written by a Codex between ${best.recorded.codexVersion} and ${later.codexVersion}`,
    };
  }
  if (best.extra.every((v) => v > newestKnown)) {
    return { kind: 'newer', basedOn: best.recorded.codexVersion, unknownVersions: best.extra };
  }
  return {
    kind: 'unknown',
    reason: `migrations ${best.extra.join(', ')} are not those of Codex ${best.recorded.codexVersion}`,
  };
}

/** A schema identity in words (`Codex 0.169.0`, `newer than Codex 0.169.0 (…)`, `unknown (…)`). */
export function describeIdentity(identity: SchemaIdentity): string {
  if (identity.kind === 'known') return `Codex ${identity.codexVersion}`;
  if (identity.kind === 'newer')
    return `newer than Codex ${identity.basedOn} (unknown migrations ${identity.unknownVersions.join(', ')})`;
  return `unknown (${identity.reason})`;
}
