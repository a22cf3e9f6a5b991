import { readFileSync } from 'node:fs';

/** The package version, read once from package.json beside `dist/` (or `src/`). */
function readVersion(): string {
  try {
    const url = new URL('../package.json', import.meta.url);
    const json = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const SKEIN_VERSION = readVersion();
