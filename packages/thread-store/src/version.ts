/** The version Skein writes as `cli_version` in the session metadata of threads it creates. */
export const SKEIN_CLI_VERSION = '0.1.0';
