import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { readHomeConfigToml, resolveSqliteHome } from '@skein/rollout';
import { configuredModelProvider } from './config.js';
import { CliError } from './errors.js';

/** Where the Codex home came from; `demo` means none existed and the CLI made one. */
export type HomeOrigin = 'flag' | 'env' | 'default' | 'demo';

export interface ResolvedHome {
  path: string;
  /**
   * Where the home's SQLite files are: Codex's `sqlite_home` (`resolveSqliteHome`), the demo
   * home itself for the demo (never a DB directory a real home may share).
   */
  sqliteHome: string;
  /** config.toml's `model_provider`, else `openai` (read with `sqliteHome`, one read). */
  defaultProvider: string;
  origin: HomeOrigin;
}

/** A home's DB directory and default provider, from one read of its config.toml. */
function fromConfig(
  path: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Pick<ResolvedHome, 'sqliteHome' | 'defaultProvider'> {
  const config = readHomeConfigToml(path);
  return {
    sqliteHome: resolveSqliteHome(path, { env, cwd, config }),
    defaultProvider: configuredModelProvider(config),
  };
}

/** `~/.cache/skein/demo-home` (or under `XDG_CACHE_HOME`, or `SKEIN_DEMO_HOME` itself). */
export function demoHomePath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.SKEIN_DEMO_HOME) return resolve(cwd, env.SKEIN_DEMO_HOME);
  const cache = env.XDG_CACHE_HOME
    ? resolve(cwd, env.XDG_CACHE_HOME)
    : join(userHome(env, cwd), '.cache');
  return join(cache, 'skein', 'demo-home');
}

/** The run's `HOME`; the OS account's home only when the environment has none. */
function userHome(env: NodeJS.ProcessEnv, cwd: string): string {
  return env.HOME ? resolve(cwd, env.HOME) : homedir();
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `--codex-home DIR`, else `CODEX_HOME`, else `~/.codex`. A home that was named must exist
 * (unless `allowCreate`, for `import`); when none was named and `~/.codex` does not exist
 * the demo home is used (the caller creates it and says so). Its DBs are where Codex keeps them
 * (config.toml's `sqlite_home`, else `CODEX_SQLITE_HOME`, else the home).
 */
export function resolveHome(
  flag: string | undefined,
  options: { allowCreate: boolean; env?: NodeJS.ProcessEnv; cwd?: string },
): ResolvedHome {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = flag ?? (env.CODEX_HOME ? env.CODEX_HOME : undefined);
  if (named !== undefined) {
    const path = resolve(cwd, named);
    if (existsSync(path) && !isDirectory(path)) {
      throw CliError.usage(`Codex home ${path} is not a directory`);
    }
    if (!existsSync(path) && !options.allowCreate) {
      const where = flag !== undefined ? '--codex-home' : 'CODEX_HOME';
      throw CliError.usage(`Codex home ${path} (from ${where}) does not exist`);
    }
    const origin = flag !== undefined ? 'flag' : 'env';
    return { path, ...fromConfig(path, env, cwd), origin };
  }
  const defaultHome = join(userHome(env, cwd), '.codex');
  if (isDirectory(defaultHome)) {
    return { path: defaultHome, ...fromConfig(defaultHome, env, cwd), origin: 'default' };
  }
  const demo = demoHomePath(env, cwd);
  return {
    path: demo,
    sqliteHome: demo,
    defaultProvider: configuredModelProvider(demo),
    origin: 'demo',
  };
}
