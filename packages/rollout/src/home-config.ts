import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The few things Skein reads from a home's `config.toml`, by one reader for every app: the
 * top-level `key = value` scalars, and the ids of the `[model_providers.<id>]` tables. Not a
 * TOML parser: values that are not a string, an integer or a boolean read as `undefined`, and
 * each caller validates the keys it uses (zod), falling back to Codex's default for a bad one.
 */

/** What a home's config.toml says, as far as Skein reads it. */
export interface HomeConfigToml {
  /** Top-level keys (before the first `[table]`) with their scalar values; the last one wins. */
  values: ReadonlyMap<string, unknown>;
  /** The ids of the `[model_providers.<id>]` tables, in file order. */
  modelProviderTables: readonly string[];
}

const COMMENT = String.raw`\s*(?:#.*)?$`;
const BASIC_STRING = new RegExp(String.raw`^("(?:[^"\\]|\\.)*")${COMMENT}`);
const LITERAL_STRING = new RegExp(String.raw`^'([^']*)'${COMMENT}`);
const INTEGER = new RegExp(String.raw`^([+-]?\d+)${COMMENT}`);
const BOOLEAN = new RegExp(String.raw`^(true|false)${COMMENT}`);
/** `[model_providers.<id>]`, the id bare, "basic" or 'literal' as TOML allows. */
const MODEL_PROVIDER_TABLE =
  /^\[\s*model_providers\s*\.\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]\s*(?:#.*)?$/;

/** Reads `<codexHome>/config.toml`; a missing or unreadable file says nothing. */
export function readHomeConfigToml(codexHome: string): HomeConfigToml {
  let text = '';
  try {
    text = readFileSync(join(codexHome, 'config.toml'), 'utf8');
  } catch {
    // No config file: every caller's defaults.
  }
  const values = new Map<string, unknown>();
  const modelProviderTables: string[] = [];
  let topLevel = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      topLevel = false;
      const provider = modelProviderTableId(line);
      if (provider !== null) modelProviderTables.push(provider);
      continue;
    }
    if (!topLevel) continue;
    const match = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      values.set(match[1], parseTomlScalar(match[2].trim()));
    }
  }
  return { values, modelProviderTables };
}

/** A string (basic, with escapes, or literal), an integer or a boolean; else undefined. */
function parseTomlScalar(text: string): unknown {
  const basic = BASIC_STRING.exec(text)?.[1];
  if (basic !== undefined) return jsonString(basic);
  const literal = LITERAL_STRING.exec(text)?.[1];
  if (literal !== undefined) return literal;
  const integer = INTEGER.exec(text)?.[1];
  if (integer !== undefined) return Number(integer);
  const boolean = BOOLEAN.exec(text)?.[1];
  if (boolean !== undefined) return boolean === 'true';
  return undefined;
}

/** A TOML basic string's value (its escapes are JSON's for what Codex's configs hold). */
function jsonString(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

/** The provider id a `[model_providers.<id>]` header line defines, or null. */
function modelProviderTableId(line: string): string | null {
  const match = MODEL_PROVIDER_TABLE.exec(line);
  if (match === null) return null;
  if (match[1] !== undefined) return jsonString(`"${match[1]}"`) ?? null;
  return match[2] ?? match[3] ?? null;
}
