/**
 * `resolveSqliteHome`: where a home's DBs are, by the rules codex 0.169.0 follows (probed on the
 * binary): config.toml's top-level `sqlite_home` (relative to the home, `~` = $HOME) wins over
 * `CODEX_SQLITE_HOME` (relative to the cwd, `~` too), and the home is the default. Real config
 * files in a temp home.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diagnoseHome, initStateDb, openStateDbIfReady, resolveSqliteHome } from '../src/index.js';

let root: string;
let home: string;
const cwd = '/srv/work';
const userHome = '/home/someone';

beforeEach(() => {
  root = makeTempDir('skein-sqlite-home-');
  home = join(root, 'codex-home');
  mkdirSync(home);
});
afterEach(() => removeTempDir(root));

function writeConfig(text: string): void {
  writeFileSync(join(home, 'config.toml'), text);
}

/** The resolver with a given environment (HOME always set, so `~` is predictable). */
function resolveWith(env: Record<string, string> = {}): string {
  return resolveSqliteHome(home, { env: { HOME: userHome, ...env }, cwd });
}

describe('resolveSqliteHome', () => {
  it('is the home itself when nothing moves it', () => {
    expect(resolveWith()).toBe(home);
    writeConfig('model = "gpt-5"\n');
    expect(resolveWith()).toBe(home);
    // An empty variable is no setting (0.169.0 keeps the DBs in the home).
    expect(resolveWith({ CODEX_SQLITE_HOME: '' })).toBe(home);
  });

  it('takes an absolute CODEX_SQLITE_HOME as is', () => {
    expect(resolveWith({ CODEX_SQLITE_HOME: '/var/db/codex' })).toBe('/var/db/codex');
  });

  it('resolves a relative CODEX_SQLITE_HOME against the working directory, ~ against HOME', () => {
    expect(resolveWith({ CODEX_SQLITE_HOME: 'envrel' })).toBe('/srv/work/envrel');
    expect(resolveWith({ CODEX_SQLITE_HOME: './a/../b' })).toBe('/srv/work/b');
    expect(resolveWith({ CODEX_SQLITE_HOME: '~/x' })).toBe('/home/someone/x');
    expect(resolveWith({ CODEX_SQLITE_HOME: '~' })).toBe('/home/someone');
  });

  it('takes an absolute sqlite_home from config.toml', () => {
    writeConfig('sqlite_home = "/var/db/codex"\n');
    expect(resolveWith()).toBe('/var/db/codex');
  });

  it('resolves a relative sqlite_home against the home, ~ against HOME', () => {
    writeConfig('sqlite_home = "dbrel"\n');
    expect(resolveWith()).toBe(join(home, 'dbrel'));
    writeConfig("sqlite_home = './a/../b' # a literal string\n");
    expect(resolveWith()).toBe(join(home, 'b'));
    writeConfig('sqlite_home = "~/x"\n');
    expect(resolveWith()).toBe('/home/someone/x');
    writeConfig('sqlite_home = "~"\n');
    expect(resolveWith()).toBe('/home/someone');
    // Only `~` and `~/` are expanded; `~user` is a directory name like any other.
    writeConfig('sqlite_home = "~nobody/x"\n');
    expect(resolveWith()).toBe(join(home, '~nobody', 'x'));
  });

  it('lets config.toml win over CODEX_SQLITE_HOME', () => {
    writeConfig('sqlite_home = "/from/config"\n');
    expect(resolveWith({ CODEX_SQLITE_HOME: '/from/env' })).toBe('/from/config');
    writeConfig('sqlite_home = "dbrel"\n');
    expect(resolveWith({ CODEX_SQLITE_HOME: '/from/env' })).toBe(join(home, 'dbrel'));
  });

  it('reads only the top level of config.toml, escapes and all', () => {
    writeConfig('model = "m"\n[profiles.x]\nsqlite_home = "/in/a/table"\n');
    expect(resolveWith({ CODEX_SQLITE_HOME: '/from/env' })).toBe('/from/env');
    writeConfig('sqlite_home = "/with \\"quotes\\" # and a hash"\n');
    expect(resolveWith()).toBe('/with "quotes" # and a hash');
  });

  it('ignores a sqlite_home that is not a string, as if it were not set', () => {
    writeConfig('sqlite_home = 5\n');
    expect(resolveWith()).toBe(home);
    expect(resolveWith({ CODEX_SQLITE_HOME: '/from/env' })).toBe('/from/env');
    writeConfig('sqlite_home = "unterminated\n');
    expect(resolveWith()).toBe(home);
  });

  it('creates nothing', () => {
    writeConfig('sqlite_home = "dbrel"\n');
    resolveWith();
    expect(existsSync(join(home, 'dbrel'))).toBe(false);
  });
});

describe('the libraries follow sqlite_home when no directory is given', () => {
  it('initStateDb, openStateDbIfReady and diagnoseHome use the configured directory', async () => {
    writeConfig('sqlite_home = "dbs"\n');
    const dbs = join(home, 'dbs');
    const db = await initStateDb({ codexHome: home });
    try {
      expect(db.path).toBe(join(dbs, 'state_5.sqlite'));
    } finally {
      await db.close();
    }
    expect(existsSync(join(dbs, 'state_5.sqlite'))).toBe(true);
    expect(existsSync(join(home, 'state_5.sqlite'))).toBe(false);
    const ready = await openStateDbIfReady({ codexHome: home });
    try {
      expect(ready?.path).toBe(join(dbs, 'state_5.sqlite'));
    } finally {
      await ready?.close();
    }
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(diagnosis.stateDb.exists).toBe(true);
    // Given explicitly, the directory wins.
    const elsewhere = join(root, 'elsewhere');
    const explicit = await initStateDb({ codexHome: home, sqliteHome: elsewhere });
    try {
      expect(explicit.path).toBe(join(elsewhere, 'state_5.sqlite'));
    } finally {
      await explicit.close();
    }
  });
});
