/** The one reader of a home's config.toml (real files in a temp home). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { readHomeConfigToml } from '../src/index.js';

const homes: string[] = [];
function home(config?: string): string {
  const dir = makeTempDir('skein-home-config-');
  homes.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'config.toml'), config);
  return dir;
}

afterEach(() => {
  for (const dir of homes.splice(0)) removeTempDir(dir);
});

describe('readHomeConfigToml', () => {
  it('says nothing for a home without a config.toml', () => {
    const read = readHomeConfigToml(home());
    expect([...read.values]).toEqual([]);
    expect(read.modelProviderTables).toEqual([]);
  });

  it('reads top-level scalars, comments after them, and nothing inside a table', () => {
    const read = readHomeConfigToml(
      home(
        [
          '# a comment line',
          'model_provider = "mock" # why',
          "sqlite_home = 'C:\\dbs' ",
          'escaped = "a\\tb \\"c\\" # not a comment"',
          'thread_unload_delay_secs = -5 # seconds',
          'flag = true',
          'array = ["a"]',
          'model_provider_after = "x" trailing',
          '[model_providers.mock]',
          'name = "inside a table"',
        ].join('\r\n'),
      ),
    );
    expect(Object.fromEntries(read.values)).toEqual({
      model_provider: 'mock',
      sqlite_home: 'C:\\dbs',
      escaped: 'a\tb "c" # not a comment',
      thread_unload_delay_secs: -5,
      flag: true,
      array: undefined,
      model_provider_after: undefined,
    });
    expect(read.modelProviderTables).toEqual(['mock']);
  });

  it('lists every [model_providers.<id>] table, however the id is quoted, and no other table', () => {
    const read = readHomeConfigToml(
      home(
        [
          '[model_providers.bare-id_1]',
          '[ model_providers . "double \\"quoted\\"" ]  # comment',
          "[model_providers.'single quoted']",
          '[profiles.work.model_providers.not_a_provider]',
          '[model_providers]',
        ].join('\n'),
      ),
    );
    expect(read.modelProviderTables).toEqual(['bare-id_1', 'double "quoted"', 'single quoted']);
  });
});
