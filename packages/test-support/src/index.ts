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
  budget,
  type Figures,
  type ReliabilityProfile,
  Rng,
  recordFigures,
  reliabilityProfile,
  sleep,
} from './reliability/budget.js';
export { JsonRpcChild, LineChild, type RpcMessage } from './reliability/children.js';
export {
  indexedNameOnDisk,
  injectedSeqsOnDisk,
  jsonLinesOnDisk,
  lostSeqs,
  rolloutFilesOnDisk,
} from './reliability/on-disk.js';
export {
  type BackfillSnapshot,
  backfillSnapshot,
  type SyntheticThread,
  writeSyntheticHome,
} from './reliability/synthetic-home.js';
export { StdioJsonRpcClient } from './stdio-jsonrpc.js';
export { makeTempDir, removeTempDir, withTempDir } from './temp.js';
export { makeSelfSignedCert, type SelfSignedCert } from './tls.js';
