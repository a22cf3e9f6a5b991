export {
  CODEX_VERSIONS,
  type CodexCli,
  CodexUnavailableError,
  codexCacheDir,
  ensureCodexCli,
} from './codex-cli.js';
export {
  FIXTURE_NAMES,
  type FixtureManifest,
  type FixtureName,
  fixtureHomeDir,
  installFixtureHome,
  listFixtureHomes,
  type ManifestThread,
  readFixtureManifest,
  restoreMtimes,
} from './fixtures.js';
export { fixturesDir, repoRoot } from './paths.js';
export {
  type DatabaseTemplate,
  findPostgresBinDir,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from './postgres.js';
export { makeTempDir, removeTempDir, withTempDir } from './temp.js';
