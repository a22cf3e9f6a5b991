// The interop tier runs the real codex from npm. Installs every release it needs up front
// (once; later runs find them cached) and, when that is impossible, says so in one line and
// fails: the interop tests must never pass by not running.
import {
  CODEX_VERSIONS,
  CodexUnavailableError,
  ensureCodexCli,
} from '../packages/test-support/dist/index.js';

try {
  for (const version of CODEX_VERSIONS) ensureCodexCli(version);
} catch (error) {
  if (!(error instanceof CodexUnavailableError)) throw error;
  console.error(`interop tier: ${error.message}; it runs the real codex, so it fails.`);
  process.exit(1);
}
