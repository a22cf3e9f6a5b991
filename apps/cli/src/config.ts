import { readHomeConfigToml } from '@skein/rollout';

/**
 * The one setting the CLI reads from the home's `config.toml`: the top-level `model_provider`
 * (what `thread/list` shows by default), else `openai`.
 */
export function configuredModelProvider(home: string): string {
  const provider = readHomeConfigToml(home).values.get('model_provider');
  return typeof provider === 'string' ? provider : 'openai';
}
