/** Skein's own version, reported in the user agent and `--version`. */
export const SKEIN_APP_SERVER_VERSION = '0.1.0';

/**
 * The `codex app-server` version whose protocol Skein's app-server speaks and whose rollout and
 * DB format it writes. Threads created through the app-server record it as their `cli_version`,
 * exactly as the real 0.169.0 records its own: clients read `cliVersion` as the format a thread
 * was written in. Which program created a thread is told by its `originator`, as in Codex.
 */
export const CODEX_PROTOCOL_VERSION = '0.169.0';
