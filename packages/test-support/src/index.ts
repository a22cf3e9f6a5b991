export {
  CODEX_VERSIONS,
  type CodexCli,
  CodexUnavailableError,
  codexCacheDir,
  ensureCodexCli,
} from './codex-cli.js';
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
  fixtureHomeDir,
  installFixtureHome,
  listFixtureHomes,
  type ManifestThread,
  readFixtureManifest,
  restoreMtimes,
} from './fixtures.js';
export { installHomeCopy } from './home-copy.js';
export { fixturesDir, repoRoot } from './paths.js';
export {
  type DatabaseTemplate,
  findPostgresBinDir,
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from './postgres.js';
export {
  type BackfillSnapshot,
  backfillSnapshot,
  budget,
  type Figures,
  indexedNameOnDisk,
  injectedSeqsOnDisk,
  JsonRpcChild,
  jsonLinesOnDisk,
  LineChild,
  lostSeqs,
  type ReliabilityProfile,
  Rng,
  type RpcMessage,
  recordFigures,
  reliabilityProfile,
  rolloutFilesOnDisk,
  type SyntheticThread,
  sleep,
  writeSyntheticHome,
} from './reliability.js';
export { StdioJsonRpcClient } from './stdio-jsonrpc.js';
export { makeTempDir, removeTempDir, withTempDir } from './temp.js';
export { makeSelfSignedCert, type SelfSignedCert } from './tls.js';
