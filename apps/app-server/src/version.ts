/** The version Skein reports in the user agent and as `cliVersion` of threads it starts live. */
export const SKEIN_APP_SERVER_VERSION = '0.1.0';
