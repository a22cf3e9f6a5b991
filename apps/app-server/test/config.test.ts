/** The config.toml keys the app-server reads at startup, from real files in a temp home. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { readServerConfig } from '../src/config.js';

const homes: string[] = [];
function home(config?: string): string {
  const dir = makeTempDir('skein-app-server-config-');
  homes.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'config.toml'), config);
  return dir;
}

afterEach(() => {
  for (const dir of homes.splice(0)) removeTempDir(dir);
});

describe('readServerConfig', () => {
  it('defaults without a config file', () => {
    expect(readServerConfig(home())).toEqual({
      modelProvider: 'openai',
      model: null,
      threadUnloadDelaySecs: 60,
    });
  });

  it('reads top-level keys and ignores tables and comments', () => {
    const dir = home(
      [
        '# comment',
        'model_provider = "mock_provider" # trailing',
        "model = 'gpt-x'",
        'thread_unload_delay_secs = 0',
        '[model_providers.mock_provider]',
        'model_provider = "ignored"',
      ].join('\n'),
    );
    expect(readServerConfig(dir)).toEqual({
      modelProvider: 'mock_provider',
      model: 'gpt-x',
      threadUnloadDelaySecs: 0,
    });
  });

  it('falls back to the default of an invalid value only', () => {
    expect(
      readServerConfig(home('thread_unload_delay_secs = "soon"\nmodel_provider = "p"\n')),
    ).toEqual({
      modelProvider: 'p',
      model: null,
      threadUnloadDelaySecs: 60,
    });
  });
});
