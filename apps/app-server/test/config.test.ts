/** The config.toml keys the app-server reads at startup, from real files in a temp home. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_MODEL_PROVIDERS, readServerConfig } from '../src/config.js';

const homes: string[] = [];
function home(config?: string): string {
  const dir = makeTempDir('skein-app-server-config-');
  homes.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'config.toml'), config);
  return dir;
}

const NO_SESSION_SETTINGS = {
  model: null,
  reasoningEffort: null,
  approvalPolicy: null,
  approvalsReviewer: null,
  sandboxMode: null,
  serviceTier: null,
};

afterEach(() => {
  for (const dir of homes.splice(0)) removeTempDir(dir);
});

describe('readServerConfig', () => {
  it('defaults without a config file', () => {
    expect(readServerConfig(home())).toEqual({
      modelProvider: 'openai',
      modelProviders: new Set(BUILT_IN_MODEL_PROVIDERS),
      model: null,
      threadUnloadDelaySecs: 60,
      session: NO_SESSION_SETTINGS,
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
      modelProviders: new Set([...BUILT_IN_MODEL_PROVIDERS, 'mock_provider']),
      model: 'gpt-x',
      threadUnloadDelaySecs: 0,
      session: { ...NO_SESSION_SETTINGS, model: 'gpt-x' },
    });
  });

  it('falls back to the default of an invalid value only', () => {
    expect(
      readServerConfig(home('thread_unload_delay_secs = "soon"\nmodel_provider = "p"\n')),
    ).toEqual({
      modelProvider: 'p',
      modelProviders: new Set(BUILT_IN_MODEL_PROVIDERS),
      model: null,
      threadUnloadDelaySecs: 60,
      session: NO_SESSION_SETTINGS,
    });
  });

  it('reads the session settings start/resume/fork echo, mapping on-failure as 0.169.0 does', () => {
    const dir = home(
      [
        'approval_policy = "on-failure"',
        'sandbox_mode = "workspace-write"',
        'approvals_reviewer = "auto_review"',
        'model_reasoning_effort = "high"',
        'service_tier = "flex"',
        'model = "x-model"',
      ].join('\n'),
    );
    expect(readServerConfig(dir).session).toEqual({
      model: 'x-model',
      reasoningEffort: 'high',
      approvalPolicy: 'on-request',
      approvalsReviewer: 'auto_review',
      sandboxMode: 'workspace-write',
      serviceTier: 'flex',
    });
    expect(readServerConfig(home('sandbox_mode = "everything"\n')).session.sandboxMode).toBeNull();
  });

  it('knows the built-in providers and every [model_providers.<id>] table, however quoted', () => {
    const dir = home(
      [
        '[model_providers.bare-id_1]',
        'name = "x"',
        '[ model_providers . "double \\"quoted\\"" ]  # comment',
        "[model_providers.'single quoted']",
        '[profiles.work]',
        '[profiles.work.model_providers.not_a_provider]',
        '[model_providers]',
        'model_providers = "not a table"',
      ].join('\n'),
    );
    expect([...readServerConfig(dir).modelProviders].sort()).toEqual(
      [...BUILT_IN_MODEL_PROVIDERS, 'bare-id_1', 'double "quoted"', 'single quoted'].sort(),
    );
    expect(BUILT_IN_MODEL_PROVIDERS).toEqual(['openai', 'ollama', 'lmstudio', 'amazon-bedrock']);
  });
});
