import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './temp.js';

/** A throwaway PostgreSQL server on 127.0.0.1, in its own temp data dir. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, no password). */
  url: string;
  port: number;
  /** The temp dir holding `data/`, the unix socket dir `sock/` and `server.log`. */
  rootDir: string;
  /** Creates a fresh empty database and returns its URL (one per test keeps tests apart). */
  createDatabase(name?: string): Promise<string>;
  /**
   * Creates a fresh database as a copy of `template` (CREATE DATABASE … TEMPLATE) and returns
   * its URL. The template is built by its `prepare` on first use on this server, then only
   * copied: a migrated schema costs one migration per server instead of one per test.
   */
  cloneDatabase(template: DatabaseTemplate): Promise<string>;
  /**
   * Runs SQL with `psql` as the `postgres` superuser, in `database` (default `postgres`), and
   * returns its unaligned output.
   */
  psql(sql: string, database?: string): string;
  /**
   * Crashes the server as a power cut would leave it: SIGKILL to the postmaster and every
   * process it started, no shutdown checkpoint. Resolves once they are all gone.
   */
  crash(): Promise<void>;
  /** Starts the server again on the same data dir and port (crash recovery runs first). */
  restart(): Promise<void>;
  /**
   * Stops the server (smart shutdown, fast after 3 s if connections stay open) and removes its
   * temp dir. Idempotent.
   */
  stop(): Promise<void>;
}

/** A database prepared once per server and copied for every test that asks for it. */
export interface DatabaseTemplate {
  /** The template database's name (lowercase letters, digits, `_`). */
  name: string;
  /** Fills the template (for example: open a store on `url`, which migrates it, and close it). */
  prepare(url: string): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * Keep fsync and synchronous commit on. Off by default: test data is thrown away, and
   * without fsync a server starts and commits several times faster.
   */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

const SERVER_USER = 'postgres';

/**
 * The directory with `initdb` and `pg_ctl`: `SKEIN_PG_BIN`, else the newest
 * `/usr/lib/postgresql/<major>/bin`, else `pg_config --bindir` on PATH.
 */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.SKEIN_PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb')))
      throw new Error(`SKEIN_PG_BIN has no initdb: ${fromEnv}`);
    return fromEnv;
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(debianRoot, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    const newest = majors[0];
    if (newest) return join(debianRoot, newest, 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // fall through to the error below
  }
  throw new Error('PostgreSQL not found: install it (initdb, pg_ctl) or set SKEIN_PG_BIN');
}

/** PostgreSQL refuses to run as root, so as root every server command runs as `postgres`. */
function runAsServerUser(binary: string, args: string[], cwd: string): void {
  const asRoot = process.getuid?.() === 0;
  const [command, commandArgs] = asRoot
    ? ['runuser', ['-u', SERVER_USER, '--', binary, ...args]]
    : [binary, args];
  const result = spawnSync(command, commandArgs, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    const reason = result.error ? String(result.error) : `exit ${String(result.status)}`;
    throw new Error(`${binary} ${args.join(' ')} failed (${reason}): ${output}`);
  }
}

function serverUserIds(): { uid: number; gid: number } {
  const out = execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8' }).trim();
  return { uid: Number(out), gid: Number(gid) };
}

async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const liveServers = new Set<() => void>();
let exitHookInstalled = false;

/** A crashed or interrupted test run must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const stopNow of liveServers) stopNow();
  });
}

/**
 * Starts PostgreSQL in a new temp data dir: trust auth, listening only on 127.0.0.1 on a free
 * port and on a unix socket inside the temp dir. Needs no running cluster and no manual step.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir();
  const rootDir = makeTempDir('skein-pg-');
  const dataDir = join(rootDir, 'data');
  const socketDir = join(rootDir, 'sock');
  const logFile = join(rootDir, 'server.log');
  mkdirSync(socketDir);
  if (process.getuid?.() === 0) {
    const { uid, gid } = serverUserIds();
    chownSync(rootDir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  runAsServerUser(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', SERVER_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    rootDir,
  );

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    max_connections: 200,
    ...(options.durable
      ? {}
      : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.settings,
  };
  let port = 0;
  let lastError: unknown;
  // A free port can be taken between probing and binding; retry a few times.
  for (let attempt = 0; attempt < 4; attempt += 1) {
    port = await freeLoopbackPort();
    const serverOptions = [
      `-p ${port}`,
      ...Object.entries(settings).map(([name, value]) => `-c ${name}=${String(value)}`),
    ].join(' ');
    try {
      runAsServerUser(
        join(binDir, 'pg_ctl'),
        ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start'],
        rootDir,
      );
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (lastError) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    removeTempDir(rootDir);
    throw new Error(`PostgreSQL did not start: ${String(lastError)}\n${log}`);
  }

  const startedOptions = [
    `-p ${port}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${String(value)}`),
  ].join(' ');
  const url = `postgres://${SERVER_USER}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const pgCtlStop = (mode: 'smart' | 'fast' | 'immediate', waitSeconds = 60): void =>
    runAsServerUser(
      join(binDir, 'pg_ctl'),
      ['-D', dataDir, '-m', mode, '-w', '-t', String(waitSeconds), 'stop'],
      rootDir,
    );
  const stopNow = (mode: 'gentle' | 'immediate'): void => {
    if (stopped) return;
    stopped = true;
    liveServers.delete(stopImmediately);
    try {
      if (mode === 'immediate') pgCtlStop('immediate');
      else {
        // Smart first: a connection its client is still closing ends on its own. A fast
        // shutdown would terminate it under that client, whose pool then reports the
        // termination as an uncaught error in a test that already passed. Connections a
        // test left open get a few seconds, then the fast shutdown ends them.
        try {
          pgCtlStop('smart', 3);
        } catch {
          pgCtlStop('fast');
        }
      }
    } finally {
      removeTempDir(rootDir);
    }
  };
  const stopImmediately = (): void => {
    try {
      stopNow('immediate');
    } catch {
      // process is exiting; nothing more to do
    }
  };
  liveServers.add(stopImmediately);
  installExitHook();

  const databaseUrl = (database: string) =>
    `postgres://${SERVER_USER}@127.0.0.1:${port}/${database}`;
  const runSql = (sql: string, database = 'postgres'): string => {
    const target = databaseUrl(database);
    const result = spawnSync(
      join(binDir, 'psql'),
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', target, '-c', sql],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (result.status !== 0)
      throw new Error(`psql failed: ${result.stderr || String(result.error)}`);
    return result.stdout.trim();
  };
  let databaseCount = 0;
  const checkName = (database: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bad database name: ${database}`);
  };
  const newDatabase = (template?: string): string => {
    databaseCount += 1;
    const database = `skein_test_${databaseCount}_${process.pid}`;
    runSql(`CREATE DATABASE ${database}${template === undefined ? '' : ` TEMPLATE ${template}`}`);
    return databaseUrl(database);
  };
  const templates = new Map<string, Promise<void>>();
  const buildTemplate = async (template: DatabaseTemplate): Promise<void> => {
    runSql(`CREATE DATABASE ${template.name}`);
    await template.prepare(databaseUrl(template.name));
    // Copying needs the template to itself: no new connections, and none left over.
    runSql(`ALTER DATABASE ${template.name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    runSql(
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${template.name}'`,
    );
  };
  return {
    url,
    port,
    rootDir,
    async createDatabase(name?: string): Promise<string> {
      if (name === undefined) return newDatabase();
      checkName(name);
      runSql(`CREATE DATABASE ${name}`);
      return databaseUrl(name);
    },
    async cloneDatabase(template: DatabaseTemplate): Promise<string> {
      checkName(template.name);
      let ready = templates.get(template.name);
      if (ready === undefined) {
        ready = buildTemplate(template);
        templates.set(template.name, ready);
      }
      await ready;
      return newDatabase(template.name);
    },
    psql: runSql,
    async crash(): Promise<void> {
      const pidFile = join(dataDir, 'postmaster.pid');
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      const family = [postmaster, ...childPids(postmaster)];
      for (const pid of family) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // Bounded: every process gone within ~10 s (they hold the shared memory a restart needs).
      for (let i = 0; i < 500 && family.some(isAlive); i += 1) await sleepMs(20);
    },
    async restart(): Promise<void> {
      runAsServerUser(
        join(binDir, 'pg_ctl'),
        ['-D', dataDir, '-l', logFile, '-o', startedOptions, '-w', '-t', '60', 'start'],
        rootDir,
      );
    },
    async stop(): Promise<void> {
      stopNow('gentle');
    },
  };
}

/** The pids whose parent is `pid` (from /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after the last `)`.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
