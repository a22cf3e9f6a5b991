import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { type HomeConfigToml, readHomeConfigToml } from './home-config.js';

/*
 * Where a home's SQLite files live (spec rollout-state §1): Codex keeps `state_5.sqlite`,
 * `thread_history_1.sqlite` and its other DBs in `sqlite_home`, which is the Codex home unless
 * the user moved it; rollouts and the name index stay in the home. Skein's own
 * `skein_1.sqlite` belongs beside Codex's DBs. The rules, as codex 0.169.0 applies them
 * (probed against the binary, a temp home per case):
 *
 * 1. config.toml's top-level `sqlite_home` (a string): relative to the home, `~` = $HOME;
 * 2. else `CODEX_SQLITE_HOME` (non-empty): relative to the process's working directory, `~` too;
 * 3. else the home itself.
 *
 * The directory is created by whoever opens the DB (StateRuntime), as Codex does.
 */

/** The environment variable Codex reads when config.toml names no `sqlite_home`. */
export const SQLITE_HOME_ENV = 'CODEX_SQLITE_HOME';
/** The config.toml key, read only at the top level (inside a `[table]` it means nothing). */
export const SQLITE_HOME_CONFIG_KEY = 'sqlite_home';

/** What config.toml may give: a string. Anything else is ignored, as Codex's loader falls back. */
const sqliteHomeValue = z.string();

/** Where `resolveSqliteHome` looks besides the home: the environment, its cwd and HOME. */
export interface ResolveSqliteHomeOptions {
  /** Default `process.env` (its `CODEX_SQLITE_HOME` and `HOME`). */
  env?: NodeJS.ProcessEnv;
  /** What a relative `CODEX_SQLITE_HOME` is resolved against. Default `process.cwd()`. */
  cwd?: string;
  /** The home's config.toml, when the caller has already read it (else it is read here). */
  config?: HomeConfigToml;
}

/**
 * The absolute directory of the home's SQLite files (see the rules above). Reads the home's
 * `config.toml`; a missing or unreadable file, or a `sqlite_home` that is not a string, counts
 * as not set.
 */
export function resolveSqliteHome(
  codexHome: string,
  options: ResolveSqliteHomeOptions = {},
): string {
  const env = options.env ?? process.env;
  const home = resolve(codexHome);
  const userHome = env.HOME ? resolve(env.HOME) : homedir();
  const configured = configuredSqliteHome(options.config ?? readHomeConfigToml(home));
  if (configured !== undefined) return resolve(home, expandTilde(configured, userHome));
  const fromEnv = env[SQLITE_HOME_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return resolve(options.cwd ?? process.cwd(), expandTilde(fromEnv, userHome));
  }
  return home;
}

/** `~` and `~/…` mean the user's home; `~user/…` is taken literally (as Codex does). */
function expandTilde(path: string, userHome: string): string {
  if (path === '~') return userHome;
  if (path.startsWith('~/')) return join(userHome, path.slice(2));
  return path;
}

/** The top-level `sqlite_home` of a home's config.toml, or undefined when it names none. */
function configuredSqliteHome(config: HomeConfigToml): string | undefined {
  const parsed = sqliteHomeValue.safeParse(config.values.get(SQLITE_HOME_CONFIG_KEY));
  return parsed.success ? parsed.data : undefined;
}
