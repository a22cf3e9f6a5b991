import { type HomeConfigToml, readHomeConfigToml } from '@skein/rollout';

/**
 * The one setting the CLI reads from the home's `config.toml` besides where its DBs are: the
 * top-level `model_provider` (what `thread/list` shows by default), else `openai`. Takes the
 * home's path, or its config.toml already read.
 */
export function configuredModelProvider(home: string | HomeConfigToml): string {
  const config = typeof home === 'string' ? readHomeConfigToml(home) : home;
  const provider = config.values.get('model_provider');
  return typeof provider === 'string' ? provider : 'openai';
}
