import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The one setting the CLI reads from the home's `config.toml`: the top-level `model_provider`
 * (what `thread/list` shows by default). A full TOML parser is not needed for one key; any
 * line inside a `[table]` is ignored.
 */
export function configuredModelProvider(home: string): string {
  let text: string;
  try {
    text = readFileSync(join(home, 'config.toml'), 'utf8');
  } catch {
    return 'openai';
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) break;
    const match = /^model_provider\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(line);
    if (match) return match[1] ?? match[2] ?? 'openai';
  }
  return 'openai';
}
