export { type CodexCli, ensureCodexCli } from './codex-cli.js';
export {
  dumpCodexDb,
  type RecordedCodexDb,
  type RecordedMigration,
  type RecordedSchemaObject,
  recordCodexDbs,
} from './codex-schemas.js';
export {
  FIXTURE_NAMES,
  type FixtureManifest,
  type FixtureName,
  installFixtureHome,
  type ManifestThread,
  readFixtureManifest,
  restoreMtimes,
} from './fixtures.js';
export { installHomeCopy } from './home-copy.js';
export { fixturesDir, repoRoot, sharedDir } from './paths.js';
export {
  findPostgresBinDir,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from './postgres.js';
export { StdioJsonRpcClient } from './stdio-jsonrpc.js';
export { makeTempDir, removeTempDir, withTempDir } from './temp.js';
export { makeSelfSignedCert, type SelfSignedCert } from './tls.js';
